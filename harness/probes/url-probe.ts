import { expand } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';

/** GET a URL (e.g. {offsite_url}: an endpoint a fault put up) and compare the status (0: unreachable). */
export async function urlProbe(input: { url: string; status: number; bodyContains?: string }, ctx: ProbeContext): Promise<ProbeResult> {
  const url = expand(ctx, input.url);
  const probe = `url ${url} = ${input.status}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) }).catch((e: Error) => e);
  if (response instanceof Error) return { probe, ok: input.status === 0, detail: `GET ${url}: ${(response.cause as Error | undefined)?.message ?? response.message}` };
  const body = await response.text();
  const ok = response.status === input.status && (input.bodyContains === undefined || body.includes(input.bodyContains));
  return { probe, ok, detail: `GET ${url} → ${response.status} ${body.slice(0, 200)}` };
}
