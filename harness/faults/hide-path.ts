import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { tempDir } from '../../lib/testing.ts';
import { relPath } from '../scenario/fields.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';

/** disk_failure_simulation: a folder (or file) of the root gone, its files vanishing for the services too. */
const schema = z.strictObject({ kind: z.literal('hide-path'), path: relPath });

export const hidePathFault = defineFault({ kind: 'hide-path', schema, needsStack: false, inject: injectHidePath });

type HidePath = z.infer<typeof schema>;

/**
 * The runbook's disk_failure_simulation (`mv modules/zeroia/state modules/zeroia/state.hidden`),
 * made visible to running services: a folder's entries are moved out and the folder removed,
 * so that a container whose bind mount holds the folder sees its files vanish too (a plain
 * rename would leave the mount pointing at the moved folder, and nothing would notice). The
 * path is gone from the root, as on a failed disk. Revert puts it back only if it is still
 * missing: a recovery that rebuilt it is never undone.
 */
export async function injectHidePath(fault: HidePath, ctx: FaultContext): Promise<InjectedFault> {
  const path = join(ctx.root, fault.path);
  // Kept beside the root, on its file system: a rename never crosses file systems (root_disk).
  const home = ctx.work === undefined ? await tempDir('ark-fault-hidden-') : join(dirname(ctx.root), '.fault-stash');
  const kept = join(home, `hidden-${randomBytes(4).toString('hex')}`);
  await mkdir(kept, { recursive: true });
  const info = await lstat(path);
  let moved = 0;
  if (info.isDirectory()) {
    // A service may write a new file between our moves: move again until the folder is empty.
    for (let attempt = 0; ; attempt++) {
      for (const name of await readdir(path)) {
        await rename(join(path, name), join(kept, name)).catch(async (e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT') return;
          // Written again since it was moved aside (a service recreated its subfolder): what it
          // wrote since is lost with the rest of the path; the copy kept is the one taken first.
          if (attempt > 0 && (e.code === 'ENOTEMPTY' || e.code === 'EEXIST' || e.code === 'EISDIR'))
            return rm(join(path, name), { recursive: true, force: true });
          throw e;
        });
        moved += 1;
      }
      try {
        await rmdir(path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || attempt >= 20) throw error;
      }
    }
  } else {
    await rename(path, join(kept, 'file'));
    moved = 1;
  }
  let reverted = false;
  return {
    kind: fault.kind,
    description: `${fault.path} hidden (${info.isDirectory() ? `folder emptied and removed, ${moved} entr${moved === 1 ? 'y' : 'ies'} kept aside` : 'file moved aside'})`,
    async revert() {
      if (reverted) return;
      reverted = true;
      if ((await lstat(path).catch(() => null)) === null) {
        if (info.isDirectory()) await rename(kept, path);
        else await rename(join(kept, 'file'), path);
      }
      await rm(kept, { recursive: true, force: true });
    },
  };
}
