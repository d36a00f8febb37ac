import { symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeTree } from '../testing.ts';
import { listSnapshotTree } from './list-snapshots.ts';
import { planPrune } from './plan-prune.ts';
import { pruneSnapshots } from './prune-snapshots.ts';
import { compileStatePatterns } from './state-patterns.ts';
import { DEFAULT_PATTERNS, listFiles } from './testing.ts';

const DAY = 86_400_000;
const NOW = new Date(2026, 2, 15, 12, 0, 0);
const patterns = compileStatePatterns(DEFAULT_PATTERNS);

const tree = (files: Record<string, string>) => writeTree(files, 'ark-prune-');

describe('planPrune (pure)', () => {
  it('removes what is past the window by the stamp in the name, keeps the newest of each series whatever its age', async () => {
    const backupDir = await tree({
      'realtime/state/a.toml.20260301_000000': 'a = 1', // 14 days: goes
      'realtime/state/a.toml.20260308_115959': 'a = 2', // 7 days + 1 s: goes
      'realtime/state/a.toml.20260308_120000': 'a = 3', // exactly 7 days: stays
      'realtime/state/a.toml.20260314_000000': 'a = 4',
      'realtime/state/b.toml.20250101_000000': 'b = 1', // old, but b's only snapshot
      'realtime/state/c.toml.20250101_000000': 'c = 1', // old
      'realtime/state/c.toml.20250101_000000_001': 'c = 2', // old, c's newest
    });
    const { series } = await listSnapshotTree(backupDir);
    const plan = planPrune(series, { now: NOW, keepMs: 7 * DAY, isOurs: () => true });
    expect(plan.remove.map((r) => r.rel).sort()).toEqual([
      'realtime/state/a.toml.20260301_000000',
      'realtime/state/a.toml.20260308_115959',
      'realtime/state/c.toml.20250101_000000',
    ]);
    expect(plan.keptAsNewest.map((r) => r.rel).sort()).toEqual([
      'realtime/state/b.toml.20250101_000000',
      'realtime/state/c.toml.20250101_000000_001',
    ]);
    expect(planPrune(series, { now: NOW, keepMs: 7 * DAY, isOurs: () => false }).remove).toEqual([]);
  });
});

describe('pruneSnapshots', () => {
  it('deletes old snapshots (ours and the runbook ones), never the newest, never anything foreign; mtime does not matter', async () => {
    const backupDir = await tree({
      'realtime/modules/zeroia/state/zeroia_state.toml.20260301_000000': 'old',
      'realtime/modules/zeroia/state/zeroia_state.toml.20260314_000000': 'new',
      'realtime/global_state/global_context.toml.20260101_000000': 'only one, old',
      'realtime/zeroia/state/zeroia_state.toml.20260101_000000': 'runbook layout, old',
      'realtime/zeroia/state/zeroia_state.toml.20260102_000000': 'runbook layout, its newest',
      // foreign: not a snapshot name, not a .toml series, symlinks, odd names, the runbook's temp
      'realtime/README': 'notes',
      'realtime/state/a.toml.bak': 'x',
      'realtime/state/a.toml.2026-01-01': 'x',
      'realtime/state/a.toml.20260101_000000.tmp.20260101_000000': 'runbook temp',
      'realtime/reports/summary.txt.20260101_000000': 'foreign series that happens to carry a stamp',
      'realtime/reports/summary.txt.20260102_000000': 'foreign',
      'daily/arkalia_20250101/arkalia_states_20250101.tar.gz': 'not under realtime/',
    });
    await symlink('/etc/hostname', join(backupDir, 'realtime/state/link.toml.20250101_000000'));
    await symlink(
      join(backupDir, 'realtime/modules/zeroia/state/zeroia_state.toml.20260314_000000'),
      join(backupDir, 'realtime/state/z.toml.20250101_000000'),
    );
    // A recent mtime on an old snapshot does not save it (the runbook's find -mtime would have kept it).
    const fresh = new Date();
    await utimes(join(backupDir, 'realtime/modules/zeroia/state/zeroia_state.toml.20260301_000000'), fresh, fresh);
    const before = await listFiles(backupDir);

    const result = await pruneSnapshots({ backupDir, patterns, keepMs: 7 * DAY, now: () => NOW });
    expect(result.removed.map((r) => r.rel).sort()).toEqual([
      'realtime/modules/zeroia/state/zeroia_state.toml.20260301_000000',
      'realtime/zeroia/state/zeroia_state.toml.20260101_000000',
    ]);
    expect(result.keptAsNewest.map((r) => r.rel).sort()).toEqual([
      'realtime/global_state/global_context.toml.20260101_000000',
      'realtime/zeroia/state/zeroia_state.toml.20260102_000000',
    ]);
    expect(await listFiles(backupDir)).toEqual(before.filter((f) => !result.removed.some((r) => r.rel === f)));

    // Idempotent.
    expect((await pruneSnapshots({ backupDir, patterns, keepMs: 7 * DAY, now: () => NOW })).removed).toEqual([]);
  });

  it('--dry-run plans the same but deletes nothing', async () => {
    const backupDir = await tree({
      'realtime/state/a.toml.20260101_000000': '1',
      'realtime/state/a.toml.20260314_000000': '2',
    });
    const result = await pruneSnapshots({ backupDir, patterns, keepMs: 7 * DAY, now: () => NOW, dryRun: true });
    expect(result.removed.map((r) => r.rel)).toEqual(['realtime/state/a.toml.20260101_000000']);
    expect(await listFiles(backupDir)).toEqual([
      'realtime/state/a.toml.20260101_000000',
      'realtime/state/a.toml.20260314_000000',
    ]);
  });

  it('removes temp files of dead runs once they are old, never a live run’s', async () => {
    const backupDir = await tree({
      'realtime/state/.a.toml.tmp-999999-0123abcd': 'crashed run',
      'realtime/state/.b.toml.tmp-999998-0123abcd': 'crashed run, just now',
      [`realtime/state/.c.toml.tmp-${process.pid}-0123abcd`]: 'this process',
    });
    const old = new Date(NOW.getTime() - 3600_000);
    await utimes(join(backupDir, 'realtime/state/.a.toml.tmp-999999-0123abcd'), old, old);
    await utimes(join(backupDir, `realtime/state/.c.toml.tmp-${process.pid}-0123abcd`), old, old);
    await utimes(join(backupDir, 'realtime/state/.b.toml.tmp-999998-0123abcd'), NOW, NOW);
    const result = await pruneSnapshots({
      backupDir,
      patterns,
      keepMs: 7 * DAY,
      now: () => NOW,
      isAlive: (pid) => pid === process.pid,
    });
    expect(result.staleTemps).toEqual([join(backupDir, 'realtime/state/.a.toml.tmp-999999-0123abcd')]);
    expect(await listFiles(backupDir)).toEqual([
      `realtime/state/.b.toml.tmp-999998-0123abcd`,
      `realtime/state/.c.toml.tmp-${process.pid}-0123abcd`,
    ]);
  });
});
