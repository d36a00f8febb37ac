import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifest } from '../checksum/index.ts';
import { manifestFileName, type DailyBackup } from '../layout/index.ts';

export interface BackupSize {
  date: string;
  bytes: number;
  /** archive name (states, logs, ...) → member count, from the manifest (empty when it has none). */
  members: Record<string, number>;
}

/** Total archive bytes and member counts: the manifest's when it lists archives, else the *.tar.* files on disk. */
export async function backupSize(backup: DailyBackup): Promise<BackupSize> {
  try {
    const manifest = parseManifest(await readFile(join(backup.dir, manifestFileName(backup.date)), 'utf8'));
    if (manifest.archives && manifest.archives.length > 0) {
      return {
        date: backup.date,
        bytes: manifest.archives.reduce((s, a) => s + a.size_bytes, 0),
        members: Object.fromEntries(manifest.archives.map((a) => [a.name, a.members])),
      };
    }
  } catch {
    // no usable manifest: measure the files
  }
  let bytes = 0;
  for (const name of await readdir(backup.dir))
    if (/\.tar(\.[a-z0-9]+)?$/.test(name)) bytes += (await stat(join(backup.dir, name))).size;
  return { date: backup.date, bytes, members: {} };
}
