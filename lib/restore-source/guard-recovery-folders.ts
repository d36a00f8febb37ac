import { realpath } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { UsageError } from '../errors.ts';

/** The backup folder is written, the root replaced as a whole, the offsite only read: none may hold another. */
export async function guardRecoveryFolders(o: { root: string; backupDir: string; offsiteDir?: string }): Promise<void> {
  const real = async (p: string) => realpath(p).catch(() => resolve(p));
  const [root, backup] = await Promise.all([real(o.root), real(o.backupDir)]);
  const within = (a: string, b: string) => a === b || a.startsWith(b.endsWith(sep) ? b : `${b}${sep}`);
  if (within(backup, root) || within(root, backup)) {
    throw new UsageError(
      `--backup-dir ${o.backupDir} and --root ${o.root} must be separate folders, neither inside the other: the root is restored as a whole, and a backup inside the data it protects is lost with it`,
    );
  }
  if (o.offsiteDir === undefined) return;
  const offsite = await real(o.offsiteDir);
  for (const [flag, path] of [
    ['--backup-dir', backup],
    ['--root', root],
  ] as const) {
    if (within(path, offsite) || within(offsite, path))
      throw new UsageError(
        `${flag} ${path} must not be the offsite folder ${o.offsiteDir}, nor inside it or around it: a recovery only ever reads the offsite copy`,
      );
  }
}
