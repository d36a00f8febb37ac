import { resolve } from 'node:path';
import Dockerode from 'dockerode';
import { buildStandInImage } from '../image/index.ts';
import { createArkaliaStack } from './arkalia-stack.ts';
import { RUN_LABEL, stackLabels } from './labels.ts';
import { prepareRoot } from './prepare-root.ts';
import { startService } from './start-service.ts';
import type { ArkaliaStack, StackOptions } from './types.ts';
import { validateStackOptions } from './validate-stack-options.ts';

/**
 * Starts the Arkalia services on the root, group after group, each healthy before the
 * next group starts. On any failure it removes everything it made, then rethrows.
 */
export async function startArkaliaStack(opts: StackOptions): Promise<ArkaliaStack> {
  validateStackOptions(opts);
  const docker = new Dockerode();
  const root = resolve(opts.root);

  // 1. The image (ARK_IMAGE, or the offline stand-in) and the directories the mounts need.
  const image = opts.image ?? (await buildStandInImage({ docker }));
  await prepareRoot(root, opts.services);

  // A run id names what the cleanup below removes: reusing a live one would destroy it.
  const existing = await docker.listContainers({ all: true, filters: { label: [`${RUN_LABEL}=${opts.runId}`] } });
  if (existing.length > 0) {
    throw new Error(`Arkalia stack run id ${opts.runId} is already in use (${existing.length} containers)`);
  }

  const stack = createArkaliaStack({ docker, runId: opts.runId, root, services: opts.services });
  try {
    // 2. One network per stack; service names are its DNS aliases (http://zeroia:8000).
    const network = `ark-${opts.runId}`;
    const labels = stackLabels(opts.runId);
    await docker.createNetwork({ Name: network, Driver: 'bridge', CheckDuplicate: true, Labels: labels });

    // 3. The groups, in the runbook's order.
    const ctx = {
      image,
      root,
      network,
      runId: opts.runId,
      writeIntervalMs: opts.writeIntervalMs ?? 300,
      startTimeoutMs: opts.startTimeoutMs ?? 60_000,
      services: opts.services,
    };
    for (const group of opts.order) {
      // allSettled: a failing service must not leave its siblings starting while we clean up.
      const results = await Promise.allSettled(
        group.map((name) => startService(opts.services.find((s) => s.name === name)!, ctx)),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
  } catch (err) {
    await stack.stop().catch(() => undefined);
    throw err;
  }
  return stack;
}
