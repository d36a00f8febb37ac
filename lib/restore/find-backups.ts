import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../errors.ts';
import { checksumFileName, dailyDir, isBackupDate, statesArchiveName } from '../pipeline/backup-layout.ts';

export interface BackupRef {
  date: string;
  dir: string;
  statesArchive: string;
  checksumFile: string;
}

/** Published daily backups (never partial ones), newest first. Missing daily/ → empty list. */
export async function findBackups(backupDir: string): Promise<BackupRef[]> {
  const daily = dailyDir(backupDir);
  const names = await readdir(daily).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const refs: BackupRef[] = [];
  for (const name of names) {
    const date = /^arkalia_(\d{8})$/.exec(name)?.[1];
    if (!date || !isBackupDate(date)) continue;
    const dir = join(daily, name);
    if (!(await stat(dir)).isDirectory()) continue;
    refs.push({ date, dir, statesArchive: join(dir, statesArchiveName(date)), checksumFile: join(dir, checksumFileName(date)) });
  }
  return refs.sort((a, b) => b.date.localeCompare(a.date));
}

/** The dated backup, or the newest one; NotFoundError (exit 1) naming what exists otherwise. */
export async function selectBackup(backupDir: string, date?: string): Promise<BackupRef> {
  const all = await findBackups(backupDir);
  if (all.length === 0) throw new NotFoundError('NO_BACKUP', `no backup found in ${dailyDir(backupDir)} (expected folders named arkalia_YYYYMMDD; check --backup-dir / ARK_BACKUP_DIR)`);
  if (date === undefined) return all[0]!;
  const match = all.find((b) => b.date === date);
  if (!match) {
    const available = all.slice(0, 10).map((b) => b.date).join(', ');
    throw new NotFoundError('NO_BACKUP_FOR_DATE', `no backup for ${date} in ${dailyDir(backupDir)}; available: ${available}${all.length > 10 ? ', …' : ''}`);
  }
  return match;
}
