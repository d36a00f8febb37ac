import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Fault } from '../scenario/index.ts';
import type { FaultContext, InjectedFault } from './fault.ts';
import { stashAway, type Stashed } from './stash.ts';

type LoseDisk = Extract<Fault, { kind: 'lose-disk' }>;

/**
 * The disk holding the Arkalia root and the local backups is gone: everything in both folders
 * (the folders themselves stay, empty, as a fresh disk mounted in the same place) is moved to
 * a hidden folder of the workspace. Only {work} (the offsite copy, the offline keys) remains.
 * Revert moves everything back where a recovery has not put something in its place.
 */
export async function injectLoseDisk(fault: LoseDisk, ctx: FaultContext): Promise<InjectedFault> {
  const stashed: Stashed[] = [];
  try {
    for (const dir of [ctx.root, ctx.backupDir]) {
      for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) stashed.push(await stashAway(join(dir, name), ctx, 'lost-disk'));
    }
  } catch (error) {
    for (const s of stashed.reverse()) await s.putBack();
    throw error;
  }
  return {
    kind: fault.kind,
    description: `lost the disk: ${stashed.length} entries of the root and the backup folder are gone (kept aside in the workspace)`,
    async revert() {
      for (const s of [...stashed].reverse()) await s.putBack();
    },
  };
}
