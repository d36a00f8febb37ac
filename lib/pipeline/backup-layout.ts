import { join } from 'node:path';

// Names of the backup tree, compatible with the runbook (see DESIGN.md "Data layout").

export const dailyDir = (backupDir: string): string => join(backupDir, 'daily');
export const backupDirName = (date: string): string => `arkalia_${date}`;
export const partialPrefix = (date: string): string => `.arkalia_${date}.partial-`;
export const statesArchiveName = (date: string): string => `arkalia_states_${date}.tar.gz`;
export const checksumFileName = (date: string): string => `checksums_${date}.sha256`;
export const manifestFileName = (date: string): string => `backup_manifest_${date}.json`;

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
