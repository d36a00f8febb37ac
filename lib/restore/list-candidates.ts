import type { Policy } from '../policy/index.ts';
import { dailyCandidate, type BackupCandidate } from './backup-candidate.ts';
import { findBackups, selectBackup } from './find-backups.ts';

/**
 * The daily backups a restore may use, newest first: every published one (the pipeline falls
 * back from the newest to the newest that passes), or only the one of `date` when the
 * operator named it. NotFoundError (exit 1) naming what exists when there is none.
 */
export async function listCandidates(backupDir: string, policy: Policy, date?: string): Promise<BackupCandidate[]> {
  if (date !== undefined) return [dailyCandidate(await selectBackup(backupDir, date), policy)];
  await selectBackup(backupDir); // NO_BACKUP, with what to check, when there is none
  return (await findBackups(backupDir)).map((ref) => dailyCandidate(ref, policy));
}
