import { join } from 'node:path';

// The backup folders of <backup-dir>/daily/ — recovery points — named as the runbook named them:
//   arkalia_<YYYYMMDD>/                          the day's first point (the runbook's daily backup)
//   arkalia_<YYYYMMDD>_<HHMM>/                   a later point of that day (local time)
//   .arkalia_<STAMP>.partial-<pid>-<ms>/         one being written (renamed into place when complete)
//   .arkalia_<STAMP>.trash-<pid>-<hex>/          one a prune renamed aside and is removing
// A point's STAMP (YYYYMMDD or YYYYMMDD_HHMM) names everything in it. The day's first point
// carries no time, so stamps sort in the order the points were written.

export const dailyDir = (backupDir: string): string => join(backupDir, 'daily');
export const backupDirName = (stamp: string): string => `arkalia_${stamp}`;
export const checksumFileName = (stamp: string): string => `checksums_${stamp}.sha256`;
export const manifestFileName = (stamp: string): string => `backup_manifest_${stamp}.json`;

/** `arkalia_<STAMP>` exactly, with a real calendar date and time: the stamp, else null. */
export function parseBackupDirName(name: string): string | null {
  const stamp = /^arkalia_(\d{8}(?:_\d{4})?)$/.exec(name)?.[1];
  return stamp !== undefined && isBackupStamp(stamp) ? stamp : null;
}

/** A point's stamp: YYYYMMDD (a real calendar date), or YYYYMMDD_HHMM with a real time of day. */
export function isBackupStamp(value: string): boolean {
  const m = /^(\d{8})(?:_(\d{2})(\d{2}))?$/.exec(value);
  if (!m || !isBackupDate(m[1]!)) return false;
  return m[2] === undefined || (Number(m[2]) < 24 && Number(m[3]) < 60);
}

/** The calendar date of a stamp (its first 8 digits). */
export const stampDate = (stamp: string): string => stamp.slice(0, 8);

/** The stamp of a later point of `date` taken at `now` (local time): YYYYMMDD_HHMM. */
export function pointStamp(date: string, now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date}_${pad(now.getHours())}${pad(now.getMinutes())}`;
}

/** The local time a stamp names: its minute; for a plain date, that day's first or last second (`plain`). */
export function stampTime(stamp: string, plain: 'midnight' | 'end-of-day' = 'midnight'): Date {
  const [y, mo, d] = [Number(stamp.slice(0, 4)), Number(stamp.slice(4, 6)) - 1, Number(stamp.slice(6, 8))];
  if (stamp.length > 8) return new Date(y, mo, d, Number(stamp.slice(9, 11)), Number(stamp.slice(11, 13)));
  return plain === 'midnight' ? new Date(y, mo, d) : new Date(y, mo, d, 23, 59, 59);
}

/** A point of `stamp` being written: `.arkalia_<stamp>.partial-`, then `<pid>-<ms>`. */
export const partialPrefix = (stamp: string): string => `.arkalia_${stamp}.partial-`;
export const partialName = (stamp: string, pid: number, ms: number): string => `${partialPrefix(stamp)}${pid}-${ms}`;
/** The pid that was writing a partial folder (any date; `.replaced`: set aside by --replace), or null when `name` is not one. */
export function partialOwner(name: string): number | null {
  const pid = /^\.arkalia_\d{8}(?:_\d{4})?\.partial-(\d+)-\d+(?:\.replaced)?$/.exec(name)?.[1];
  return pid === undefined ? null : Number(pid);
}

/** A backup a prune renamed aside: `.arkalia_<date>.trash-<pid>-<hex>` (only names trashName makes). */
export const TRASH_NAME = /^\.arkalia_(\d{8}(?:_\d{4})?)\.trash-\d+-[0-9a-f]+$/;
export const trashName = (stamp: string, pid: number, hex: string): string => `.arkalia_${stamp}.trash-${pid}-${hex}`;

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
