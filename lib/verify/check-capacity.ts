import { statfs } from 'node:fs/promises';
import { backupSize } from './backup-size.ts';
import { dailyBackups, type ChecklistOptions, type Outcome } from './check-result.ts';

async function statfsFree(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/** Weekly: free space on the backup file system, at least two of the newest backup. */
export async function checkCapacity(options: ChecklistOptions): Promise<Outcome> {
  const all = await dailyBackups(options);
  const free = await (options.freeBytes ?? statfsFree)(options.backupDir);
  if (all.length === 0)
    return {
      status: 'warning',
      detail: `${free} bytes free on ${options.backupDir}; no backup to size against`,
      data: { free },
    };
  const size = await backupSize(all[0]!);
  const data = { free, newest_bytes: size.bytes, needed: 2 * size.bytes };
  if (free < 2 * size.bytes)
    return {
      status: 'failed',
      detail: `only ${free} bytes free on ${options.backupDir}, less than 2 backups' worth (${2 * size.bytes} bytes; newest ${size.bytes})`,
      data,
    };
  return {
    status: 'ok',
    detail: `${free} bytes free on ${options.backupDir}: ${(free / Math.max(1, size.bytes)).toFixed(1)}× the newest backup (${size.bytes} bytes)`,
    data,
  };
}
