import { createRequire } from 'node:module';
import type Dockerode from 'dockerode';
import { STANDIN_SERVICES } from '../arkalia/index.ts';
import { RUN_LABEL } from '../stack/index.ts';
import type { FaultContext } from './fault.ts';

/** A Docker client, loaded on first use: validating scenarios must not load dockerode. */
const docker = (): Dockerode => new (createRequire(import.meta.url)('dockerode') as typeof Dockerode)();

/** A service's state file, relative to the root: its row of harness/arkalia/traits.mjs, else Arkalia's convention. */
export const serviceStateFile = (service: string): string =>
  STANDIN_SERVICES[service]?.files.state ?? `modules/${service}/state/${service}_state.toml`;

/** The service's container, for faults that act on it (stop, kill, start). Needs the stack. */
export function serviceContainer(ctx: FaultContext, service: string): Dockerode.Container {
  if (!ctx.stack) throw new Error(`a fault on service ${service} needs the containers (stack = true)`);
  return docker().getContainer(ctx.stack.containerName(service));
}

/** Start it again unless it runs (a recovery may have done it already). Idempotent. */
export async function startIfStopped(container: Dockerode.Container): Promise<void> {
  const info = await container.inspect().catch(() => null);
  if (info === null || info.State.Running) return;
  await container.start().catch((error: { statusCode?: number }) => {
    if (error.statusCode !== 304) throw error; // 304: already started
  });
}

/** SIGKILL every running container of the stack (none without one) and wait until each is down; returns those it killed. */
export async function killStack(ctx: FaultContext): Promise<Dockerode.Container[]> {
  if (!ctx.stack) return [];
  const client = docker();
  const running = await client.listContainers({
    filters: { label: [`${RUN_LABEL}=${ctx.stack.runId}`], status: ['running'] },
  });
  const containers = running.map((c) => client.getContainer(c.Id));
  await Promise.all(
    containers.map(async (container) => {
      await container.kill({ signal: 'SIGKILL' }).catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 409) throw error; // 409: not running any more
      });
      await container.wait({ condition: 'not-running' });
    }),
  );
  return containers;
}
