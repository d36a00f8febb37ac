import { z } from 'zod';
import { serviceName } from '../scenario/fields.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { defineProbe } from './probe.ts';

/** The service's container exists on the host (exists = true, running or not), or does not (a new host). */
const schema = z.strictObject({
  probe: z.literal('container-exists'),
  service: serviceName,
  exists: z.boolean().default(true),
});

export const containerExistsProbe = defineProbe({
  probe: 'container-exists',
  schema,
  needsStack: true,
  describe: (probe) => `container-exists ${probe.service} = ${probe.exists}`,
  run: (probe, ctx) => containerExists(probe.service, probe.exists, ctx),
});

async function containerExists(service: string, exists: boolean, ctx: ProbeContext): Promise<ProbeResult> {
  const { default: Dockerode } = await import('dockerode');
  const name = ctx.stack.containerName(service);
  const info = await new Dockerode()
    .getContainer(name)
    .inspect()
    .catch((error: { statusCode?: number }) => (error.statusCode === 404 ? null : Promise.reject(error)));
  return {
    probe: `container-exists ${service} = ${exists}`,
    ok: (info !== null) === exists,
    detail: info
      ? `${name} exists (${info.State.Status}, image ${info.Config.Image})`
      : `no container ${name} on this host`,
  };
}
