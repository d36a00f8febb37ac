import { randomBytes } from 'node:crypto';
import { cp, lstat, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { tempDir } from '../../lib/testing.ts';
import type { FaultContext } from './fault.ts';

/** Something a fault moved aside, and how to put it back. */
export interface Stashed {
  /** Where it was. */
  path: string;
  /** Where it is kept meanwhile (a hidden folder of the workspace). */
  kept: string;
  /**
   * Move it back, only where its place is still empty and its folder still exists: a file a
   * recovery recreated (or a folder it deliberately removed) is never undone; into a folder a
   * recovery rebuilt, only what is still missing goes back. Idempotent; true when anything
   * was moved back.
   */
  putBack(): Promise<boolean>;
}

/** Move `path` (file or folder) to a hidden folder of the workspace, as a lost disk or a deletion would take it. */
export async function stashAway(path: string, ctx: FaultContext, label: string): Promise<Stashed> {
  const home = ctx.work === undefined ? await tempDir('ark-fault-stash-') : join(ctx.work, '.fault-stash');
  const kept = join(home, `${label}-${randomBytes(4).toString('hex')}`, basename(path));
  await mkdir(dirname(kept), { recursive: true });
  await move(path, kept);
  let done = false;
  return {
    path,
    kept,
    async putBack() {
      if (done) return false;
      done = true;
      return restoreMissing(kept, path);
    },
  };
}

/** Move `kept` to `path` if that place is free (merging into a rebuilt folder); true if anything moved. */
async function restoreMissing(kept: string, path: string): Promise<boolean> {
  const mine = await lstat(kept).catch(() => null);
  const parent = await stat(dirname(path)).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!mine || !parent) return false;
  const theirs = await lstat(path).catch(() => null);
  if (!theirs) {
    await move(kept, path);
    return true;
  }
  if (!mine.isDirectory() || !theirs.isDirectory()) return false;
  let moved = false;
  for (const name of await readdir(kept)) moved = (await restoreMissing(join(kept, name), join(path, name))) || moved;
  return moved;
}

/** rename, or copy + remove across file systems (a tmpfs, another mount). */
async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await cp(from, to, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    await rm(from, { recursive: true, force: true });
  }
}
