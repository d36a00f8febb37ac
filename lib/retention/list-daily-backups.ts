import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { dailyDir, isBackupDate } from '../pipeline/backup-layout.ts';

// What a prune may look at in <backup-dir>/daily/: real folders named exactly like a backup,
// and the trash folders of deletes a crashed run did not finish. Nothing else is ever touched.

export interface DailyBackup {
  date: string;
  name: string;
  dir: string;
}

export interface DailyListing {
  daily: string;
  /** Newest first. */
  backups: DailyBackup[];
  /** Folders a prune renamed aside and did not finish removing (see moveToTrash). */
  trash: string[];
  /** Named like a backup but not a real folder (a symbolic link, a file): left alone, and said so. */
  ignored: { name: string; reason: string }[];
  /** False when daily/ does not exist (no backup was ever written there). */
  exists: boolean;
}

const BACKUP_NAME = /^arkalia_(\d{8})$/;
/** `.arkalia_<date>.trash-<pid>-<hex>`: only names moveToTrash makes. */
export const TRASH_NAME = /^\.arkalia_(\d{8})\.trash-\d+-[0-9a-f]+$/;

export async function listDailyBackups(backupDir: string): Promise<DailyListing> {
  const daily = dailyDir(backupDir);
  let entries;
  try {
    entries = await readdir(daily, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { daily, backups: [], trash: [], ignored: [], exists: false };
    throw error;
  }
  const backups: DailyBackup[] = [];
  const trash: string[] = [];
  const ignored: { name: string; reason: string }[] = [];
  for (const entry of entries) {
    // Dirent types come from lstat: a symbolic link named arkalia_<date> is never followed.
    const date = BACKUP_NAME.exec(entry.name)?.[1];
    if (date !== undefined && isBackupDate(date)) {
      if (entry.isDirectory()) backups.push({ date, name: entry.name, dir: join(daily, entry.name) });
      else ignored.push({ name: entry.name, reason: entry.isSymbolicLink() ? 'a symbolic link, not a backup folder' : 'not a folder' });
    } else if (TRASH_NAME.test(entry.name) && entry.isDirectory()) {
      trash.push(join(daily, entry.name));
    }
  }
  backups.sort((a, b) => b.date.localeCompare(a.date));
  return { daily, backups, trash: trash.sort(), ignored, exists: true };
}
