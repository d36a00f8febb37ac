import { z } from 'zod';
import { serviceName } from '../scenario/fields.ts';
import { defineProbe } from './probe.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';

const schema = z.strictObject({
  probe: z.literal('http'),
  service: serviceName,
  path: z.string().startsWith('/'),
  status: z.number().int().min(0).max(599),
  body_contains: z.string().optional(),
});

export const httpProbe = defineProbe({
  probe: 'http',
  schema,
  needsStack: true,
  describe: (probe) => `http ${probe.service}${probe.path} = ${probe.status}`,
  run: getServicePath,
});

type Http = z.infer<typeof schema>;

/** GET a path of a service of the stack: this status (0: unreachable) and, if asked, this text in the body. */
async function getServicePath(probe: Http, ctx: ProbeContext): Promise<ProbeResult> {
  const name = httpProbe.describe(probe);
  const url = await ctx.stack.url(probe.service, probe.path);
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) }).catch((e: Error) => e);
  if (response instanceof Error)
    return { probe: name, ok: probe.status === 0, detail: `GET ${url}: ${response.message}` };
  const body = await response.text();
  const statusOk = response.status === probe.status;
  const bodyOk = probe.body_contains === undefined || body.includes(probe.body_contains);
  return {
    probe: name,
    ok: statusOk && bodyOk,
    detail: `GET ${probe.path} → ${response.status} ${body.slice(0, 300)}`,
  };
}
