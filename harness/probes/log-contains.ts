import { z } from 'zod';
import { serviceName } from '../scenario/fields.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { defineProbe } from './probe.ts';

/**
 * A line of the service's container log (stdout and stderr, the last `tail` lines) matches
 * `pattern` (a regular expression): how an operator of the real stack sees damage that its
 * health endpoints never report ("state ... does not parse: overwritten with a fresh state").
 */
const schema = z.strictObject({
  probe: z.literal('log-contains'),
  service: serviceName,
  pattern: z.string().refine(
    (p) => {
      try {
        new RegExp(p);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'not a valid regular expression' },
  ),
  tail: z.number().int().min(1).max(10_000).default(500),
});

export const logContainsProbe = defineProbe({
  probe: 'log-contains',
  schema,
  needsStack: true,
  describe: (probe) => `log-contains ${probe.service} /${probe.pattern}/`,
  run: (probe, ctx) => logContains(probe, ctx),
});

async function logContains(probe: z.output<typeof schema>, ctx: ProbeContext): Promise<ProbeResult> {
  const name = `log-contains ${probe.service} /${probe.pattern}/`;
  const lines = (await ctx.stack.logs(probe.service, probe.tail)).split('\n');
  const re = new RegExp(probe.pattern);
  const hit = lines.find((l) => re.test(l));
  return hit === undefined
    ? { probe: name, ok: false, detail: `no line of the last ${lines.length} of ${probe.service}'s log matches` }
    : { probe: name, ok: true, detail: hit.trim().slice(0, 300) };
}
