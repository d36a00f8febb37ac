import { spawnSync } from 'node:child_process';
import { statfs } from 'node:fs/promises';

// Deleting thousands of files slows down the next thousands of creates on an ext4 without a
// journal (this machine's root file system): it does not reuse an inode for 60 s after it was
// freed, 360 s while the inode table block holding it is dirty (fs/ext4/ialloc.c,
// recently_deleted), so each create scans past every inode freed meanwhile. Creating files
// dirties those same blocks again, so `sync` alone does not shorten it: measured here, 17k
// creates took 6-8 s (0.6 s quiet) for 5 minutes after 200k files were removed, sync and a
// 61 s wait included, and were quick again after 6. A bench that removed a restored tree
// right before timing the next restore measured that scan (one recovery round took 16x the
// runbook's). So the timed rounds delete nothing: their outputs stay until the end, and
// whatever was removed before them is written back (`sync`) and given the whole window before
// the first timed command that creates files.

/** How long freed inodes may stay skipped by creates (the dirty-block window), with a second of margin. */
export const FREED_INODE_WINDOW_MS = 361_000;

/**
 * The moment from which creating files no longer pays for what was deleted before now:
 * writes back every dirty inode table (`sync`), then adds the clean window.
 */
export function settleDeletions(now: () => number = Date.now): number {
  spawnSync('sync', [], { stdio: 'ignore' });
  return now() + FREED_INODE_WINDOW_MS;
}

/** Bytes a non-root user may still write in the file system holding `path`. */
export async function freeBytes(path: string): Promise<number> {
  const s = await statfs(path);
  return s.bavail * s.bsize;
}
