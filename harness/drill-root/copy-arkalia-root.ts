import { constants } from 'node:fs';
import { chmod, copyFile, lstat, lutimes, mkdir, symlink, utimes } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { escapingLinks, unreadable } from './check-arkalia-root.ts';
import { walkRoot, type RootEntry } from './walk-root.ts';

export interface CopiedRoot {
  root: string;
  files: number;
  bytes: number;
  /** Sockets, FIFOs, devices (not copied) and entries that vanished while the tree was read. */
  skipped: string[];
}

/** `.env`, `.env.production`, ...: made private (0600) in the copy whatever the source's mode. */
export const isSecretsFile = (rel: string) => /^\.env(\..+)?$/.test(basename(rel));

/**
 * A fresh, writable copy of an Arkalia tree at `dest` (which must not exist): folders, files
 * (reflinked where the file system can), times and modes kept; owner write access added so
 * services and scripts can change the copy; secrets files 0600; links inside the tree copied
 * as they are. Links that lead out of the tree refuse the copy (UsageError) before anything
 * is written outside `dest`. The source is only read. Files that vanish mid-copy (a live
 * installation being written) are skipped and named.
 */
export async function copyArkaliaRoot(source: string, dest: string, flag = '--root-from'): Promise<CopiedRoot> {
  const entries: RootEntry[] = [];
  try {
    for await (const entry of walkRoot(source)) entries.push(entry);
  } catch (error) {
    throw unreadable(flag, source, error);
  }
  const escaping = entries.filter((e) => e.kind === 'link' && e.escapes);
  if (escaping.length > 0) throw escapingLinks(flag, source, escaping);

  const copied: CopiedRoot = { root: dest, files: 0, bytes: 0, skipped: [] };
  const folders: { path: string; mode: number; atime: number; mtime: number }[] = [];
  const top = await lstat(source);
  await mkdir(dest, { mode: 0o700 });
  for (const entry of entries) {
    const to = join(dest, entry.rel);
    if (entry.kind === 'dir') {
      await mkdir(to, { mode: 0o700 });
      folders.push({
        path: to,
        mode: entry.stats.mode | 0o700,
        atime: entry.stats.atimeMs / 1000,
        mtime: entry.stats.mtimeMs / 1000,
      });
    } else if (entry.kind === 'file') {
      const done = await copyFile(join(source, entry.rel), to, constants.COPYFILE_FICLONE).then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return false;
          throw error;
        },
      );
      if (!done) {
        copied.skipped.push(`${entry.rel} (vanished while copying)`);
        continue;
      }
      await chmod(to, isSecretsFile(entry.rel) ? 0o600 : (entry.stats.mode & 0o7777) | 0o600);
      await utimes(to, entry.stats.atimeMs / 1000, entry.stats.mtimeMs / 1000);
      copied.files += 1;
      copied.bytes += entry.stats.size;
    } else if (entry.kind === 'link') {
      await symlink(entry.target, to);
      await lutimes(to, entry.stats.atimeMs / 1000, entry.stats.mtimeMs / 1000);
    } else {
      copied.skipped.push(
        entry.kind === 'vanished'
          ? `${entry.rel} (vanished while copying)`
          : `${entry.rel} (not a file, folder or link)`,
      );
    }
  }
  // Folder modes and times last: writing into a folder changes its mtime, and a read-only one would refuse.
  for (const folder of folders.reverse()) {
    await chmod(folder.path, folder.mode & 0o7777);
    await utimes(folder.path, folder.atime, folder.mtime);
  }
  await chmod(dest, (top.mode & 0o7777) | 0o700);
  return copied;
}
