import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { trashName } from '../layout/index.ts';
import { fsyncDir } from '../state/index.ts';

// Crash-safe deletion of a backup folder: rename it to a hidden trash name (one atomic step,
// made durable), then remove the trash. A crash in between leaves a hidden folder that no
// restore ever picks (it is not named arkalia_<date>) and that the next prune removes; it never
// leaves a half-deleted folder that still looks like a backup.

/** Rename `daily/<name>` to `daily/.arkalia_<date>.trash-<pid>-<hex>`; returns the trash path. */
export async function moveToTrash(daily: string, name: string, date: string): Promise<string> {
  const trash = join(daily, trashName(date, process.pid, randomBytes(4).toString('hex')));
  await rename(join(daily, name), trash);
  await fsyncDir(daily);
  return trash;
}

/** Remove a trash folder. Idempotent: a folder already gone is fine. */
export async function emptyTrash(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
