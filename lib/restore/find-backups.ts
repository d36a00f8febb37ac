import { join } from 'node:path';
import { NotFoundError } from '../errors.ts';
import { checksumFileName, dailyDir, listDailyBackups, statesArchiveName, type DailyBackup } from '../layout/index.ts';

export interface BackupRef {
  date: string;
  dir: string;
  statesArchive: string;
  checksumFile: string;
}

/**
 * Published daily backups (never partial ones), newest first, as lib/layout lists them: a
 * link named arkalia_<DATE> is not one (prune never sees it either). Missing daily/ → empty.
 */
export async function findBackups(backupDir: string): Promise<BackupRef[]> {
  return (await listDailyBackups(backupDir)).backups.map(backupRef);
}

const backupRef = ({ date, dir }: DailyBackup): BackupRef => ({
  date,
  dir,
  statesArchive: join(dir, statesArchiveName(date)),
  checksumFile: join(dir, checksumFileName(date)),
});

/** The dated backup, or the newest one; NotFoundError (exit 1) naming what exists otherwise. */
export async function selectBackup(backupDir: string, date?: string): Promise<BackupRef> {
  const { backups, ignored } = await listDailyBackups(backupDir);
  const all = backups.map(backupRef);
  const notUsed = ignored.length > 0 ? ` (not used: ${ignored.map((i) => `${i.name}, ${i.reason}`).join('; ')})` : '';
  if (all.length === 0)
    throw new NotFoundError(
      'NO_BACKUP',
      `no backup found in ${dailyDir(backupDir)} (expected folders named arkalia_YYYYMMDD; check --backup-dir / ARK_BACKUP_DIR)${notUsed}`,
    );
  if (date === undefined) return all[0]!;
  const match = all.find((b) => b.date === date);
  if (!match) {
    const available = all
      .slice(0, 10)
      .map((b) => b.date)
      .join(', ');
    throw new NotFoundError(
      'NO_BACKUP_FOR_DATE',
      `no backup for ${date} in ${dailyDir(backupDir)}; available: ${available}${all.length > 10 ? ', …' : ''}${notUsed}`,
    );
  }
  return match;
}
