import { mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingSink } from '../events.ts';
import { acquireBackupLock, currentProcess, formatLockRecord, lockPath } from '../lock/index.ts';
import { verifyBackup } from '../retention/index.ts';
import { makeBackup, snapshotTree } from '../retention/testing.ts';
import { tempDir } from '../testing.ts';
import { pruneAfterBackup, runPrune, type PruneOptions } from './prune.ts';

// Ages are counted from this (local) noon: 2026-11-26, so 20261027 is 30 days old.
const NOW = () => new Date(2026, 10, 26, 12);
const THIRTY = { daily_days: 30 };

async function backups(specs: Record<string, Parameters<typeof makeBackup>[2] | 'ok'>): Promise<string> {
  const dir = await tempDir('ark-prune-');
  for (const [date, defect] of Object.entries(specs)) await makeBackup(dir, date, defect === 'ok' ? undefined : defect);
  return dir;
}

const daily = async (backupDir: string) => (await readdir(join(backupDir, 'daily'))).sort();

function prune(backupDir: string, extra: Partial<PruneOptions> = {}) {
  const sink = recordingSink();
  const hashed: string[] = [];
  const verify = async (dir: string, date: string) => {
    hashed.push(date);
    return verifyBackup(dir, date);
  };
  return { sink, hashed, run: () => runPrune({ backupDir, retention: THIRTY, sink, now: NOW, verify, ...extra }) };
}

describe('runPrune', () => {
  it('keeps 30 days, deletes older, hashes only the newest, and touches nothing else', async () => {
    const dir = await backups({ '20261126': 'ok', '20261027': 'ok', '20261026': 'ok', '20250101': 'ok' });
    const d = join(dir, 'daily');
    const outside = await tempDir('ark-outside-');
    await makeBackup(outside, '20240101');
    await symlink(join(outside, 'daily', 'arkalia_20240101'), join(d, 'arkalia_20240102'));
    await writeFile(join(d, 'arkalia_20240103'), 'a file named like a backup');
    for (const name of [
      '.arkalia_20240104.partial-1-2',
      'arkalia_20241301',
      'arkalia_2024010',
      'notes',
      '.arkalia_20240105.trash-x',
    ])
      await mkdir(join(d, name));
    const before = await snapshotTree(outside);

    const { sink, hashed, run } = prune(dir);
    const report = await run();
    expect(report.deleted).toEqual(['20261026', '20250101']);
    expect(report.backups.map((b) => [b.date, b.action, b.status])).toEqual([
      ['20261126', 'keep', 'verified'],
      ['20261027', 'keep', 'unchecked'],
      ['20261026', 'delete', 'unchecked'],
      ['20250101', 'delete', 'unchecked'],
    ]);
    expect(report.backups[0]!.reasons).toEqual(['age 0 day(s) ≤ daily_days 30', 'newest backup that verifies']);
    expect(hashed).toEqual(['20261126']);
    expect(report).toMatchObject({
      today: '20261126',
      newestVerified: '20261126',
      corrupt: [],
      hashed: 1,
      dryRun: false,
    });
    expect(await daily(dir)).toEqual([
      '.arkalia_20240104.partial-1-2',
      '.arkalia_20240105.trash-x',
      'arkalia_2024010',
      'arkalia_20240102',
      'arkalia_20240103',
      'arkalia_20241301',
      'arkalia_20261027',
      'arkalia_20261126',
      'notes',
    ]);
    expect(await snapshotTree(outside)).toEqual(before); // the link's target is not followed
    expect([...report.ignored].sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: 'arkalia_20240102', reason: 'a symbolic link, not a backup folder' },
      { name: 'arkalia_20240103', reason: 'not a folder' },
    ]);
    expect(
      sink.events.filter((e) => e.kind === 'backup-deleted').map((e) => e.kind === 'backup-deleted' && e.date),
    ).toEqual(['20250101', '20261026']); // oldest first
    expect(await readdir(dir)).toEqual(['daily']); // lock released

    const again = prune(dir);
    expect((await again.run()).deleted).toEqual([]); // idempotent
  });

  it('a corrupt newest backup does not count: the older good one is kept, the corrupt one goes when expired', async () => {
    const dir = await backups({
      '20260901': 'mismatch',
      '20260801': 'missing-archive',
      '20260701': 'ok',
      '20260601': 'ok',
    });
    const { sink, hashed, run } = prune(dir);
    const report = await run();
    expect(hashed).toEqual(['20260901', '20260801', '20260701']);
    expect(report.newestVerified).toBe('20260701');
    expect(report.deleted).toEqual(['20260901', '20260801', '20260601']);
    expect(await daily(dir)).toEqual(['arkalia_20260701']);
    expect(report.corrupt).toEqual([
      { date: '20260901', problem: 'arkalia_logs_20260901.tar.gz: sha256 mismatch' },
      { date: '20260801', problem: 'arkalia_logs_20260801.tar.gz: missing' },
    ]);
    expect(sink.events).toContainEqual({
      kind: 'backup-verification',
      date: '20260901',
      dir: join(dir, 'daily', 'arkalia_20260901'),
      ok: false,
      problem: 'arkalia_logs_20260901.tar.gz: sha256 mismatch',
    });
  });

  it('a corrupt recent backup stays (by age) and so does the newest good one, however old', async () => {
    const dir = await backups({
      '20261125': 'no-checksum-file',
      '20261120': 'states-unlisted',
      '20261110': 'empty-checksum-file',
      '20250101': 'ok',
      '20240101': 'ok',
    });
    const report = await prune(dir).run();
    expect(report.deleted).toEqual(['20240101']);
    expect(report.newestVerified).toBe('20250101');
    expect(report.corrupt.map((c) => [c.date, c.problem])).toEqual([
      ['20261125', expect.stringMatching(/^checksum file .*checksums_20261125\.sha256 cannot be read/)],
      ['20261120', 'checksums_20261120.sha256 does not list arkalia_states_20261120.tar.gz'],
      ['20261110', 'checksums_20261110.sha256 does not list arkalia_states_20261110.tar.gz'],
    ]);
  });

  it('when no backup verifies, nothing is deleted', async () => {
    const dir = await backups({ '20260101': 'mismatch', '20250101': 'mismatch' });
    const { sink, run } = prune(dir);
    const report = await run();
    expect(report.deleted).toEqual([]);
    expect(report.newestVerified).toBeNull();
    expect(sink.events).toContainEqual(expect.objectContaining({ kind: 'warning', code: 'NO_VERIFIED_BACKUP' }));
    expect(await daily(dir)).toEqual(['arkalia_20250101', 'arkalia_20260101']);
  });

  it('a dry run plans the same, changes nothing, and takes no lock', async () => {
    const dir = await backups({ '20261126': 'mismatch', '20261001': 'ok', '20260901': 'ok' });
    await mkdir(join(dir, 'daily', '.arkalia_20250101.trash-99-ab12'));
    const before = await snapshotTree(dir);
    const other = await acquireBackupLock({ backupDir: dir }); // another run holds the folder: a dry run still answers
    const { sink, run } = prune(dir, { dryRun: true });
    const planned = await run();
    await other.release();
    expect(await snapshotTree(dir)).toEqual(before);
    expect(planned).toMatchObject({
      dryRun: true,
      deleted: ['20260901'],
      trashRemoved: [join(dir, 'daily', '.arkalia_20250101.trash-99-ab12')],
    });
    expect(sink.events.filter((e) => e.kind === 'dry-run').map((e) => e.kind === 'dry-run' && e.message)).toEqual([
      `would finish removing ${join(dir, 'daily', '.arkalia_20250101.trash-99-ab12')}, left by an interrupted prune`,
      `would delete ${join(dir, 'daily', 'arkalia_20260901')}`,
    ]);
    const real = await prune(dir).run();
    expect(real.backups).toEqual(planned.backups);
    expect(real.deleted).toEqual(planned.deleted);
  });

  it('finishes a delete a crashed run left as trash, and never leaves a half-deleted backup visible', async () => {
    const dir = await backups({ '20261126': 'ok', '20250101': 'ok' });
    const trash = join(dir, 'daily', '.arkalia_20240101.trash-4242-deadbeef');
    await mkdir(trash);
    await writeFile(join(trash, 'arkalia_states_20240101.tar.gz'), 'half removed');
    const { sink, run } = prune(dir);
    const report = await run();
    expect(report.trashRemoved).toEqual([trash]);
    expect(sink.events).toContainEqual({ kind: 'trash-removed', path: trash });
    expect(await daily(dir)).toEqual(['arkalia_20261126']);
  });

  it('a removal that fails halfway leaves no half-deleted backup in sight; the next run finishes it', async () => {
    const dir = await backups({ '20261126': 'ok', '20250101': 'ok', '20240101': 'ok' });
    const halfway = async (path: string) => {
      await rm(join(path, 'arkalia_states_20240101.tar.gz'), { force: true }); // some files gone…
      throw Object.assign(new Error('EIO: i/o error, rmdir'), { code: 'EIO' }); // …then the disk fails (or the process dies)
    };
    const failed = await prune(dir, { removeTree: halfway })
      .run()
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({
      code: 'PRUNE_DELETE_FAILED',
      exitCode: 1,
      message: expect.stringMatching(
        /^cannot delete .*arkalia_20240101: an I\/O error \(the disk or its file system failed\) \(EIO\)\. Deleted before it: none\. .*the next prune finishes removing it\.$/,
      ),
    });
    const left = await daily(dir);
    expect(left.filter((n) => n.startsWith('arkalia_'))).toEqual(['arkalia_20250101', 'arkalia_20261126']); // 20240101 is not visible, half-deleted
    expect(left.filter((n) => n.startsWith('.arkalia_20240101.trash-'))).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['daily']); // the lock was released on failure

    const { sink, run } = prune(dir);
    const report = await run();
    expect(report.trashRemoved).toHaveLength(1);
    expect(report.deleted).toEqual(['20250101']);
    expect(sink.events.map((e) => e.kind).filter((k) => k === 'trash-removed' || k === 'backup-deleted')).toEqual([
      'trash-removed',
      'backup-deleted',
    ]);
    expect(await daily(dir)).toEqual(['arkalia_20261126']);
  });

  it("waits for the backup folder's lock, and names a holder it must not break", async () => {
    const dir = await backups({ '20261126': 'ok', '20250101': 'ok' });
    const foreign = {
      ...currentProcess(),
      host: `not-${hostname()}`,
      token: 'far',
      since: '2026-11-26T03:00:00.000Z',
      command: 'full-backup.mts',
    };
    await writeFile(lockPath(dir), formatLockRecord(foreign));
    await expect(prune(dir, { lockTimeoutMs: 0 }).run()).rejects.toMatchObject({
      code: 'LOCK_HELD',
      exitCode: 4,
      message: expect.stringMatching(/pid \d+ on host not-.* command: full-backup\.mts.*another host/),
    });
    expect(await daily(dir)).toEqual(['arkalia_20250101', 'arkalia_20261126']);
  });

  it('after a backup: the new backup is protected and trusted (not hashed again); failures are returned', async () => {
    const dir = await backups({ '20250101': 'ok', '20240101': 'ok' });
    await makeBackup(dir, '20240615', 'mismatch'); // written by "this run" (a backfill), as full-backup would pass it
    const lock = await acquireBackupLock({ backupDir: dir });
    const sink = recordingSink();
    const outcome = await pruneAfterBackup({
      lock,
      backupDir: dir,
      date: '20240615',
      retention: THIRTY,
      sink,
      now: NOW,
    });
    await lock.release();
    expect(outcome.ok && outcome.report.backups.map((b) => [b.date, b.action, b.reasons])).toEqual([
      ['20250101', 'keep', ['newest backup that verifies']],
      ['20240615', 'keep', ['written by this run']],
      ['20240101', 'delete', ['age 1060 day(s) > daily_days 30']],
    ]);
    const failed = await pruneAfterBackup({
      lock: { ...lock, backupDir: join(dir, 'other') },
      backupDir: join(dir, 'missing'),
      date: '20240615',
      retention: THIRTY,
      sink,
      now: NOW,
    });
    expect(failed).toMatchObject({ ok: false, error: { code: 'NO_BACKUP_DIR', exitCode: 1 } });
    expect(sink.events).toContainEqual(
      expect.objectContaining({
        kind: 'warning',
        code: 'NO_BACKUP_DIR',
        message: expect.stringMatching(/^pruning after the backup failed \(the backup is complete\)/),
      }),
    );
  });

  it('fails clearly (exit 1) when the backup folder does not exist', async () => {
    const dir = await tempDir('ark-prune-');
    await expect(prune(join(dir, 'nope')).run()).rejects.toMatchObject({
      code: 'NO_BACKUP_DIR',
      exitCode: 1,
      message: expect.stringMatching(/check --backup-dir/),
    });
    const empty = await prune(dir).run(); // a folder without daily/: nothing to do
    expect(empty).toMatchObject({ backups: [], deleted: [], newestVerified: null });
  });
});
