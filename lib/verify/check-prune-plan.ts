import { backupDirName } from '../layout/index.ts';
import type { Outcome } from './check-result.ts';

/** What a prune dry run tells (lib/pipeline/prune.ts's report). */
export interface PrunePlanReport {
  backups: readonly unknown[];
  deleted: readonly string[];
  newestVerified: string | null;
  corrupt: readonly { date: string; problem: string }[];
}

/** Weekly: prune's plan (a dry run, nothing deleted); a backup that does not verify is an integrity problem. */
export async function checkPrunePlan(prunePlan: () => Promise<PrunePlanReport>): Promise<Outcome> {
  const report = await prunePlan();
  const data = { would_delete: report.deleted, corrupt: report.corrupt, newest_verified: report.newestVerified };
  const would =
    report.deleted.length > 0 ? `would delete ${report.deleted.map(backupDirName).join(', ')}` : 'would delete nothing';
  if (report.corrupt.length > 0)
    return {
      status: 'integrity',
      detail: `[dry run] ${would}; backups that do NOT verify: ${report.corrupt.map((c) => `${backupDirName(c.date)} (${c.problem})`).join('; ')}`,
      data,
    };
  return { status: 'ok', detail: `[dry run] ${would}, keep ${report.backups.length - report.deleted.length}`, data };
}
