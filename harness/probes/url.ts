import { z } from 'zod';
import { placeholderString } from '../scenario/fields.ts';
import { expand } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { defineProbe } from './probe.ts';

/** GET a URL (placeholders allowed) answers this status. */
const schema = z.strictObject({
  probe: z.literal('url'),
  url: placeholderString,
  status: z.number().int().min(0).max(599),
  body_contains: z.string().optional(),
});

export const urlProbe = defineProbe({
  probe: 'url',
  schema,
  needsStack: false,
  describe: (probe) => `url ${probe.url} = ${probe.status}`,
  run: (probe, ctx) =>
    getUrl(
      {
        url: probe.url,
        status: probe.status,
        ...(probe.body_contains === undefined ? {} : { bodyContains: probe.body_contains }),
      },
      ctx,
    ),
});

/** GET a URL (e.g. {offsite_url}: an endpoint a fault put up) and compare the status (0: unreachable). */
export async function getUrl(
  input: { url: string; status: number; bodyContains?: string },
  ctx: ProbeContext,
): Promise<ProbeResult> {
  const url = expand(ctx, input.url);
  const probe = `url ${url} = ${input.status}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) }).catch((e: Error) => e);
  if (response instanceof Error)
    return {
      probe,
      ok: input.status === 0,
      detail: `GET ${url}: ${(response.cause as Error | undefined)?.message ?? response.message}`,
    };
  const body = await response.text();
  const ok =
    response.status === input.status && (input.bodyContains === undefined || body.includes(input.bodyContains));
  return { probe, ok, detail: `GET ${url} → ${response.status} ${body.slice(0, 200)}` };
}
