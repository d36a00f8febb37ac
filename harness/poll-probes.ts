import type { Probe } from './scenario/index.ts';
import { runProbe, type ProbeContext, type ProbeResult } from './probes/index.ts';

/** Run all probes until every one passes or `timeoutMs` passes; returns the last round. */
export async function pollProbes(
  probes: readonly Probe[],
  ctx: ProbeContext,
  timeoutMs: number,
  intervalMs = 250,
): Promise<{ ok: boolean; results: ProbeResult[]; at: Date }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const results: ProbeResult[] = [];
    for (const probe of probes) results.push(await runProbe(probe, ctx));
    const ok = results.every((r) => r.ok);
    if (ok || Date.now() >= deadline) return { ok, results, at: new Date() };
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
