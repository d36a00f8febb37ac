import { z } from 'zod';
import { serviceName } from '../scenario/fields.ts';
import { defineProbe } from './probe.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';

const schema = z.strictObject({ probe: z.literal('service-healthy'), service: serviceName });

export const serviceHealthyProbe = defineProbe({
  probe: 'service-healthy',
  schema,
  needsStack: true,
  describe: (probe) => `service-healthy ${probe.service}`,
  run: serviceHealthy,
});

type ServiceHealthy = z.infer<typeof schema>;

/** The service answers 200 on its health path: it runs and serves (the real services say nothing about their state there). */
async function serviceHealthy(probe: ServiceHealthy, ctx: ProbeContext): Promise<ProbeResult> {
  const health = await ctx.stack.health(probe.service);
  return {
    probe: serviceHealthyProbe.describe(probe),
    ok: health.status === 200,
    detail: `/health → ${health.status} ${JSON.stringify(health.body).slice(0, 300)}`,
  };
}
