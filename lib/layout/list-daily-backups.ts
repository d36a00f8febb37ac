import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { dailyDir, parseBackupDirName, TRASH_NAME } from './backup-names.ts';

// The one lister of <backup-dir>/daily/, for restore, prune, verify, encryption and the drills:
// real folders named exactly like a backup, and the trash folders of deletes a crashed run did
// not finish. The symlink rule, one for everyone: a link named arkalia_<DATE> is not a backup
// (listed in `ignored`, never followed). A restore cannot then pick what a prune never sees, and
// a prune can never delete through a link; a backup kept elsewhere is restored with --backup-dir.

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

export async function listDailyBackups(backupDir: string): Promise<DailyListing> {
  const daily = dailyDir(backupDir);
  let entries;
  try {
    entries = await readdir(daily, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { daily, backups: [], trash: [], ignored: [], exists: false };
    throw error;
  }
  const backups: DailyBackup[] = [];
  const trash: string[] = [];
  const ignored: { name: string; reason: string }[] = [];
  for (const entry of entries) {
    // Dirent types come from lstat: a symbolic link named arkalia_<date> is never followed.
    const date = parseBackupDirName(entry.name);
    if (date !== null) {
      if (entry.isDirectory()) backups.push({ date, name: entry.name, dir: join(daily, entry.name) });
      else
        ignored.push({
          name: entry.name,
          reason: entry.isSymbolicLink() ? 'a symbolic link, not a backup folder' : 'not a folder',
        });
    } else if (TRASH_NAME.test(entry.name) && entry.isDirectory()) {
      trash.push(join(daily, entry.name));
    }
  }
  backups.sort((a, b) => b.date.localeCompare(a.date));
  return { daily, backups, trash: trash.sort(), ignored, exists: true };
}
