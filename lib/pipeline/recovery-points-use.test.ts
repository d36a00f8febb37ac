import { execFile } from 'node:child_process';
import { appendFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, readRecipientKey, writeKeyPair } from '../crypto/index.ts';
import { recordingSink } from '../events.ts';
import { localRemote } from '../offsite/index.ts';
import { noneController } from '../services/index.ts';
import { tempDir } from '../testing.ts';
import { disasterRecovery } from './disaster-recovery.ts';
import { encryptBackup } from './encrypted-backup.ts';
import { runPrune } from './prune.ts';
import { remoteSync } from './remote-sync.ts';
import { backup, entry, fixture, inode, policy } from './testing.ts';

// Recovery points in use: restored per data set (the newest point that verifies), pruned
// without losing what a kept point links, encrypted and sent offsite once per content.

const run = promisify(execFile);

/** disaster-recovery of the states, configs and infra, no services, no snapshots (`now`: when it runs). */
const recover = (root: string, backupDir: string, now?: Date) =>
  disasterRecovery({
    root,
    backupDir,
    policy,
    services: noneController,
    sink: recordingSink(),
    snapshots: false,
    ...(now ? { now: () => now } : {}),
  });

describe('recovery points: restore', () => {
  it("a database change after the night's backup, corrupted two hours later, is restored from the last hourly point: at most an hour lost", async () => {
    const root = await fixture();
    const dir = await tempDir('ark-pt-');
    const db = join(root, 'state', 'zeroia_dashboard.json');
    await backup(root, dir, '2026-07-01T03:00:00', { point: true }); // the night's backup
    await writeFile(db, '{"decisions": 41, "at": "03:30"}\n'); // changed after it
    await backup(root, dir, '2026-07-01T04:00:00', { point: true });
    await writeFile(db, '{"decisions": 42, "at": "04:40"}\n');
    const hourly = await backup(root, dir, '2026-07-01T05:00:00', { point: true });
    await writeFile(db, '{"decisions": 43, "at": "05:20"}\n'); // the last change, lost with the fault
    const faultAt = new Date('2026-07-01T05:30:00'); // two hours after the change of 03:30
    await writeFile(db, '{"decisions": 4'); // corrupted
    const report = await recover(root, dir, faultAt);
    expect(report.backup.label).toBe('arkalia_20260701_0500');
    expect(await readFile(db, 'utf8')).toBe('{"decisions": 42, "at": "04:40"}\n');
    const point = report.recoveryPoints.find((p) => p.path === 'state/zeroia_dashboard.json')!;
    expect(point).toMatchObject({ source: 'backup', at: hourly.manifest.backup_date });
    const lostMs = faultAt.getTime() - Date.parse(point.at!);
    expect(lostMs).toBeLessThanOrEqual(3_600_000); // the database's PT1H: 30 minutes lost
    expect(lostMs).toBe(30 * 60_000);
  });
});

describe('recovery points: a point that does not verify', () => {
  it('is passed over for the next older point that verifies, named in the report', async () => {
    const root = await fixture();
    const dir = await tempDir('ark-pt-');
    const db = join(root, 'state', 'zeroia_dashboard.json');
    await writeFile(db, '{"decisions": 1}\n');
    await backup(root, dir, '2026-07-01T03:00:00', { point: true });
    await writeFile(db, '{"decisions": 2}\n');
    const good = await backup(root, dir, '2026-07-01T04:00:00', { point: true });
    await writeFile(db, '{"decisions": 3}\n');
    const bad = await backup(root, dir, '2026-07-01T05:00:00', { point: true });
    // Bit rot in the newest point's states archive (its own file: the states changed, nothing is shared).
    const states = join(bad.report.dir, entry(bad.manifest, 'states').file);
    expect(await inode(states)).not.toBe(await inode(join(good.report.dir, entry(good.manifest, 'states').file)));
    const bytes = await readFile(states);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await writeFile(states, bytes);
    await writeFile(db, '{"decisions": 4');
    const report = await recover(root, dir);
    expect(report.rejected.map((r) => [r.backup, r.code])).toEqual([['arkalia_20260701_0500', 'CHECKSUM_MISMATCH']]);
    expect(report.backup.label).toBe('arkalia_20260701_0400');
    expect(await readFile(db, 'utf8')).toBe('{"decisions": 2}\n');
    expect(report.recoveryPoints.find((p) => p.path === 'state/zeroia_dashboard.json')?.at).toBe(
      good.manifest.backup_date,
    );
  });
});

describe('recovery points: prune', () => {
  it('deletes expired points without touching what kept points link, keeps the newest that verifies, and counts space by inode', async () => {
    const root = await fixture();
    const dir = await tempDir('ark-pt-');
    const day1 = await backup(root, dir, '2026-07-01T03:00:00', { point: true });
    await appendFile(join(root, 'logs', 'arkalia.log'), 'x\n');
    const day1Later = await backup(root, dir, '2026-07-01T16:00:00', { point: true });
    const day2 = await backup(root, dir, '2026-07-02T03:00:00', { point: true });
    // The later point's one new archive (logs) is shared with 20260702: one inode.
    const shared = join(day2.report.dir, entry(day2.manifest, 'logs').file);
    expect(await inode(shared)).toBe(await inode(join(day1Later.report.dir, entry(day1Later.manifest, 'logs').file)));
    // Deleting it then frees nothing but its own checksum file and manifest.
    const own = (
      await Promise.all(
        ['checksums_20260701_1600.sha256', 'backup_manifest_20260701_1600.json'].map(
          async (n) => (await readFile(join(day1Later.report.dir, n))).length,
        ),
      )
    ).reduce((a, b) => a + b, 0);
    const report = await runPrune({
      backupDir: dir,
      retention: { daily_days: 30, points_hours: 1 },
      sink: recordingSink(),
      now: () => new Date('2026-07-03T12:00:00'),
    });
    expect(report.deleted).toEqual(['20260701_1600']);
    expect(report.newestVerified).toBe('20260702');
    expect(report.space.freedBytes).toBe(own);
    expect(report.space.keptBytes).toBeLessThan(report.space.keptApparentBytes);
    for (const point of [day1, day2]) {
      await run('sha256sum', ['-c', '--quiet', `checksums_${point.report.date}.sha256`], { cwd: point.report.dir });
    }
    expect(await readdir(join(dir, 'daily'))).toEqual(['arkalia_20260701', 'arkalia_20260702']);
  });
});

describe('recovery points: encrypted copies', () => {
  it('encrypts and uploads an archive once per distinct content: a point that linked it links its .gpg, copied on the remote', async () => {
    const root = await fixture();
    const dir = await tempDir('ark-pt-');
    await backup(root, dir, '2026-07-01T03:00:00', { point: true });
    await backup(root, dir, '2026-07-01T04:00:00', { point: true }); // nothing changed: the states archive is a link
    const pair = await generateKeyPair({});
    const keys = await writeKeyPair(await tempDir('ark-keys-'), 'backup', pair);
    const recipients = [await readRecipientKey(keys.publicFile)];
    const first = await encryptBackup({ backupDir: dir, policy, recipients, date: '20260701', sink: () => {} });
    expect(first.files.map((f) => f.action)).toEqual(['encrypted']);
    const offsite = await tempDir('ark-offsite-');
    const sent = await remoteSync({ backupDir: dir, remote: localRemote(offsite), sink: () => {} });
    const gpg = (uploaded: typeof sent.uploaded) => uploaded.filter((u) => u.name.endsWith('.gpg'));
    expect(gpg(sent.uploaded).map((u) => [u.name, u.copiedFrom])).toEqual([
      ['arkalia_states_20260701.tar.gz.gpg', undefined],
    ]);
    const second = await encryptBackup({ backupDir: dir, policy, recipients, sink: () => {} });
    expect(second.backup.date).toBe('20260701_0400');
    expect(second.files.map((f) => f.action)).toEqual(['linked']);
    expect(await inode(second.files[0]!.file)).toBe(await inode(first.files[0]!.file));
    const sums = await readFile(join(dir, 'encrypted', 'SHA256SUMS'), 'utf8');
    expect(sums).toContain('arkalia_states_20260701.tar.gz.gpg');
    expect(sums).toContain('arkalia_states_20260701_0400.tar.gz.gpg');
    await run('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: join(dir, 'encrypted') });
    // Run again: nothing to do.
    const again = await encryptBackup({ backupDir: dir, policy, recipients, sink: () => {} });
    expect(again.files.map((f) => f.action)).toEqual(['unchanged']);
    // Offsite, the same bytes are copied there rather than uploaded again, and vouched for.
    const synced = await remoteSync({ backupDir: dir, remote: localRemote(offsite), sink: () => {} });
    expect(gpg(synced.uploaded)).toEqual([
      expect.objectContaining({
        name: 'arkalia_states_20260701_0400.tar.gz.gpg',
        bytes: 0,
        copiedFrom: 'arkalia_states_20260701.tar.gz.gpg',
      }),
    ]);
    await run('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: offsite });
    expect((await readdir(offsite)).filter((n) => n.endsWith('.gpg')).sort()).toEqual([
      'arkalia_states_20260701.tar.gz.gpg',
      'arkalia_states_20260701_0400.tar.gz.gpg',
    ]);
  });
});
