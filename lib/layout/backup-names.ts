import { join } from 'node:path';

// The daily backup folders of <backup-dir>/daily/, named as the runbook named them:
//   arkalia_<YYYYMMDD>/                         a published backup
//   .arkalia_<YYYYMMDD>.partial-<pid>-<ms>/     one being written (renamed into place when complete)
//   .arkalia_<YYYYMMDD>.trash-<pid>-<hex>/      one a prune renamed aside and is removing

export const dailyDir = (backupDir: string): string => join(backupDir, 'daily');
export const backupDirName = (date: string): string => `arkalia_${date}`;
export const checksumFileName = (date: string): string => `checksums_${date}.sha256`;
export const manifestFileName = (date: string): string => `backup_manifest_${date}.json`;

/** `arkalia_<YYYYMMDD>` exactly, with a real calendar date: the date, else null. */
export function parseBackupDirName(name: string): string | null {
  const date = /^arkalia_(\d{8})$/.exec(name)?.[1];
  return date !== undefined && isBackupDate(date) ? date : null;
}

/** A backup of `date` being written: `.arkalia_<date>.partial-`, then `<pid>-<ms>`. */
export const partialPrefix = (date: string): string => `.arkalia_${date}.partial-`;
export const partialName = (date: string, pid: number, ms: number): string => `${partialPrefix(date)}${pid}-${ms}`;
/** The pid that was writing a partial folder (any date; `.replaced`: set aside by --replace), or null when `name` is not one. */
export function partialOwner(name: string): number | null {
  const pid = /^\.arkalia_\d{8}\.partial-(\d+)-\d+(?:\.replaced)?$/.exec(name)?.[1];
  return pid === undefined ? null : Number(pid);
}

/** A backup a prune renamed aside: `.arkalia_<date>.trash-<pid>-<hex>` (only names trashName makes). */
export const TRASH_NAME = /^\.arkalia_(\d{8})\.trash-\d+-[0-9a-f]+$/;
export const trashName = (date: string, pid: number, hex: string): string => `.arkalia_${date}.trash-${pid}-${hex}`;

/** A YYYYMMDD that is a real calendar date. */
export function isBackupDate(value: string): boolean {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

/** Today's date as YYYYMMDD in local time, like `date +%Y%m%d`. */
export function localDateStamp(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}`;
}
