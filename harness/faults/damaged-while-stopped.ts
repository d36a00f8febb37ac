import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../lib/state/index.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';
import { serviceName } from '../scenario/fields.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';
import { replayConflict } from './git-conflict.ts';
import { serviceContainer, serviceStateFile, startIfStopped } from './service-state.ts';

/** A service whose state turned invalid while it was stopped, started again on it. */
const schema = z.strictObject({ kind: z.literal('damaged-while-stopped'), service: serviceName });

export const damagedWhileStoppedFault = defineFault({
  kind: 'damaged-while-stopped',
  schema,
  needsStack: true,
  inject: injectDamagedWhileStopped,
});

type DamagedWhileStopped = z.infer<typeof schema>;

/**
 * A service started on a state broken while it was down: it is stopped (cleanly), its state
 * gets the real-world merge-conflict damage (a bad deploy, a botched merge), and it is started
 * again on it. What then happens is the service's own business: the real ZeroIA comes up
 * healthy and overwrites the state it cannot parse with a fresh one. Revert puts the
 * original state back if the damage is still there and restarts the service on it; a
 * recovery's work is never undone.
 */
export async function injectDamagedWhileStopped(fault: DamagedWhileStopped, ctx: FaultContext): Promise<InjectedFault> {
  const container = serviceContainer(ctx, fault.service);
  const rel = serviceStateFile(fault.service);
  const path = join(ctx.root, rel);
  await container.stop({ t: 10 }).catch((error: { statusCode?: number }) => {
    if (error.statusCode !== 304) throw error; // 304: already stopped
  });
  const original = await readFile(path);
  const source = await readFile(join(SAMPLE_ROOT, 'state/reflexia_state.toml'), 'utf8'); // the damage found in the wild, whatever the drill's root;
  const damaged = Buffer.from(replayConflict(source, original.toString('utf8')));
  await writeFileAtomic(path, damaged);
  await container.start();
  return {
    kind: fault.kind,
    description: `${fault.service} stopped, ${rel} given merge-conflict markers while down, started again`,
    path: rel,
    damaged,
    async revert() {
      const now = await readFile(path).catch(() => null);
      if (now !== null && now.equals(damaged)) {
        await writeFileAtomic(path, original);
        await container.restart({ t: 5 }).catch(() => {});
      }
      await startIfStopped(container);
    },
  };
}
