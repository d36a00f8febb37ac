import './testcontainers-env.ts';
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { GenericContainer } from 'testcontainers';
import { containerLogs } from './container-logs.ts';
import { containerPath } from './container-path.ts';
import { stackLabels } from './labels.ts';
import { StackStartError } from './stack-start-error.ts';
import type { StackServiceSpec } from './types.ts';
import { waitUntilHealthy } from './wait-until-healthy.ts';

export interface ServiceStartContext {
  image: string;
  /** Absolute host path of the Arkalia root. */
  root: string;
  network: string;
  runId: string;
  writeIntervalMs: number;
  startTimeoutMs: number;
  /** Every service of the stack, to resolve peers. */
  services: readonly StackServiceSpec[];
}

/** Starts one service container on the stack network and waits until it is healthy. */
export async function startService(spec: StackServiceSpec, ctx: ServiceStartContext): Promise<void> {
  const stateFile = containerPath(spec.mounts, spec.stateFile);
  if (stateFile === undefined) throw new Error(`${spec.name}: state file ${spec.stateFile} is in none of its mounts`);
  const peers = spec.peers?.map((name) => {
    const peer = ctx.services.find((s) => s.name === name);
    if (peer === undefined) throw new Error(`${spec.name}: unknown peer ${name}`);
    return `${name}=http://${name}:${peer.port}`;
  });
  const environment: Record<string, string> = {
    ARK_SERVICE: spec.name,
    ARK_PORT: String(spec.port),
    ARK_STATE_FILE: stateFile,
    ARK_WRITE_INTERVAL_MS: String(ctx.writeIntervalMs),
    ...(peers === undefined ? {} : { ARK_PEERS: peers.join(',') }),
  };
  const explain = async (container: Dockerode.Container, why: string) =>
    new StackStartError(spec.name, spec.container, why, await containerLogs(container, 20).catch(() => ''));

  await new GenericContainer(ctx.image)
    .withName(spec.container)
    .withLabels(stackLabels(ctx.runId, spec.name))
    .withEnvironment(environment)
    .withExposedPorts(spec.port)
    .withBindMounts(
      spec.mounts.map((m) => ({ source: join(ctx.root, m.source), target: m.target, mode: m.readOnly ? 'ro' : 'rw' })),
    )
    // Files the service writes on the bind-mounted root stay owned by the user.
    .withUser(`${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`)
    .withNetworkMode(ctx.network)
    .withNetworkAliases(spec.name)
    .withWaitStrategy(waitUntilHealthy(spec.port, explain))
    .withStartupTimeout(ctx.startTimeoutMs)
    .start();
}
