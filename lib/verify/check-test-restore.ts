import type { TreeDiff } from '../restore/index.ts';
import type { Outcome } from './check-result.ts';

/** What a test restore into a temporary sandbox tells: the backup used and its diff against the live tree. */
export interface TestRestoreReport {
  backup: { date: string | null } | null;
  diff: TreeDiff | null;
  /** --boot: whether the sandbox came up as its own Compose project, and how long it took. */
  boot?: {
    ok: boolean;
    error: string | null;
    project: string;
    services: { name: string; health: string }[];
    ms: { up: number; down: number };
  } | null;
}

/** Weekly: disaster-recovery test mode into a temporary sandbox (services untouched), and its diff against the live tree. */
export async function checkTestRestore(testRestore: () => Promise<TestRestoreReport>): Promise<Outcome> {
  const report = await testRestore();
  const d = report.diff;
  const counts = d
    ? { added: d.added.length, removed: d.removed.length, changed: d.changed.length, unchanged: d.unchanged }
    : null;
  const b = report.boot ?? null;
  const booted = b
    ? b.ok
      ? `; booted as ${b.project} in ${(b.ms.up / 1000).toFixed(1)} s: ${b.services.map((s) => `${s.name} ${s.health}`).join(', ')}`
      : `; did NOT boot: ${b.error}`
    : '';
  return {
    status: b && !b.ok ? 'failed' : 'ok',
    detail: `backup ${report.backup?.date ?? '?'} restored into a temporary sandbox (live services untouched); diff vs live tree: ${counts ? `${counts.added} added, ${counts.removed} removed, ${counts.changed} changed, ${counts.unchanged} unchanged` : 'none'}${booted}`,
    data: {
      date: report.backup?.date ?? null,
      diff: counts,
      ...(b ? { boot: { ok: b.ok, project: b.project, services: b.services, ms: b.ms, error: b.error } } : {}),
    },
  };
}
