import type { TreeDiff } from '../restore/index.ts';
import type { Outcome } from './check-result.ts';

/** What a test restore into a temporary sandbox tells: the backup used and its diff against the live tree. */
export interface TestRestoreReport {
  backup: { date: string | null } | null;
  diff: TreeDiff | null;
}

/** Weekly: disaster-recovery test mode into a temporary sandbox (services untouched), and its diff against the live tree. */
export async function checkTestRestore(testRestore: () => Promise<TestRestoreReport>): Promise<Outcome> {
  const report = await testRestore();
  const d = report.diff;
  const counts = d
    ? { added: d.added.length, removed: d.removed.length, changed: d.changed.length, unchanged: d.unchanged }
    : null;
  return {
    status: 'ok',
    detail: `backup ${report.backup?.date ?? '?'} restored into a temporary sandbox (services untouched); diff vs live tree: ${counts ? `${counts.added} added, ${counts.removed} removed, ${counts.changed} changed, ${counts.unchanged} unchanged` : 'none'}`,
    data: { date: report.backup?.date ?? null, diff: counts },
  };
}
