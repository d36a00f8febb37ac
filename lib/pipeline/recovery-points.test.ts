import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseManifest, type BackupManifest } from '../checksum/index.ts';
import { recordingSink, type ArkEvent } from '../events.ts';
import { resolvePolicy } from '../policy/index.ts';
import { copyFixture, mountTmpfs, tempDir } from '../testing.ts';
import { runFullBackup, type FullBackupOptions } from './backup.ts';
import { generateKeyPair, readRecipientKey, writeKeyPair } from '../crypto/index.ts';
import { encryptBackup } from './encrypted-backup.ts';
import { localRemote } from '../offsite/index.ts';
import { noneController } from '../services/index.ts';
import { disasterRecovery } from './disaster-recovery.ts';
import { runPrune } from './prune.ts';
import { remoteSync } from './remote-sync.ts';
import { placeReused } from './reuse-archive.ts';
import { fileIdentity, VERIFIED_FILE, VerifiedArchives } from './verified-archives.ts';

// Si modifiés and recovery points: every point is complete and GNU-readable; what did not
// change is a hard link to the previous point's verified archive; what changed is written again.

const run = promisify(execFile);

async function fixture(): Promise<string> {
  const root = await copyFixture();
  await mkdir(join(root, 'models', 'blobs'), { recursive: true });
  await writeFile(join(root, 'models', 'blobs', 'sha256-01'), randomBytes(512 * 1024));
  return root;
}

const policy = resolvePolicy({ datasets: { models: { paths: ['models/'] } } }, 'test');

async function backup(root: string, backupDir: string, at: string, extra: Partial<FullBackupOptions> = {}) {
  const sink = recordingSink();
  const report = await runFullBackup({
    root,
    backupDir,
    date: at.slice(0, 10).replaceAll('-', ''),
    policy,
    sink,
    gitCommit: async () => null,
    host: 'test',
    now: () => new Date(at),
    ...extra,
  });
  const manifest = parseManifest(await readFile(join(report.dir, `backup_manifest_${report.date}.json`), 'utf8'));
  return { report, sink, manifest, events: sink.events };
}

const entry = (m: BackupManifest, name: string) => m.archives!.find((a) => a.name === name)!;
const inode = async (path: string) => (await stat(path)).ino;
const warnings = (events: ArkEvent[]) =>
  events.filter((e): e is Extract<ArkEvent, { kind: 'warning' }> => e.kind === 'warning').map((e) => e.code);

describe('recovery points: si modifiés', () => {
  it('a backup of an unchanged tree links every archive to the previous one, and stays complete and GNU-readable', async () => {
    const root = await fixture();
    const dir = await tempDir('ark-pt-');
    const first = await backup(root, dir, '2026-07-01T03:00:00');
    const second = await backup(root, dir, '2026-07-02T03:00:00');
    expect(second.report.reused.map((r) => [r.archive, r.how, r.carried])).toEqual([
      ['states', 'link', false],
      ['logs', 'link', false],
      ['models', 'link', false],
      ['infra', 'link', false],
    ]);
    for (const a of first.manifest.archives!) {
      const again = entry(second.manifest, a.name);
      expect(again.file).toBe(a.file.replace('20260701', '20260702'));
      expect(again.sha256).toBe(a.sha256);
      expect(await inode(join(second.report.dir, again.file))).toBe(await inode(join(first.report.dir, a.file)));
      expect(again.reused_from).toBe('20260701');
      expect(again.captured_at).toBe(second.manifest.backup_date); // unchanged: current as of this point
    }
    // Only the checksum file and the manifest are new files.
    const names = await readdir(second.report.dir);
    const fresh = [];
    for (const name of names) if ((await stat(join(second.report.dir, name))).nlink === 1) fresh.push(name);
    expect(fresh.sort()).toEqual(['backup_manifest_20260702.json', 'checksums_20260702.sha256']);
    await run('sha256sum', ['-c', '--quiet', 'checksums_20260702.sha256'], { cwd: second.report.dir });
    const { stdout } = await run('tar', ['-tzf', join(second.report.dir, 'arkalia_states_20260702.tar.gz')]);
    expect(stdout).toContain('modules/zeroia/state/zeroia_state.toml');
  });

  it('writes again only the archive whose members changed', async () => {
    const root = await fixture();
    const dir = await tempDir('ark-pt-');
    const first = await backup(root, dir, '2026-07-01T03:00:00');
    await appendFile(join(root, 'logs', 'arkalia.log'), 'one more line\n');
    const second = await backup(root, dir, '2026-07-02T03:00:00');
    expect(second.report.reused.map((r) => r.archive)).toEqual(['states', 'models', 'infra']);
    const logs = entry(second.manifest, 'logs');
    expect(logs.sha256).not.toBe(entry(first.manifest, 'logs').sha256);
    expect(logs.reused_from).toBeUndefined();
    expect(await inode(join(second.report.dir, logs.file))).not.toBe(
      await inode(join(first.report.dir, entry(first.manifest, 'logs').file)),
    );
    await run('sha256sum', ['-c', '--quiet', 'checksums_20260702.sha256'], { cwd: second.report.dir });
  });

  it('never links a previous archive that does not verify: it is written again, and said so', async () => {
    const root = await fixture();
    const dir = await tempDir('ark-pt-');
    const first = await backup(root, dir, '2026-07-01T03:00:00');
    const damaged = join(first.report.dir, entry(first.manifest, 'infra').file);
    const bytes = await readFile(damaged);
    bytes[bytes.length - 30]! ^= 0xff;
    await writeFile(damaged, bytes); // same inode, one byte flipped
    const second = await backup(root, dir, '2026-07-02T03:00:00');
    expect(second.report.reused.map((r) => r.archive)).toEqual(['states', 'logs', 'models']);
    expect(warnings(second.events)).toContain('PREVIOUS_ARCHIVE_DAMAGED');
    const infra = entry(second.manifest, 'infra');
    expect(await inode(join(second.report.dir, infra.file))).not.toBe(await inode(damaged));
    await run('sha256sum', ['-c', '--quiet', 'checksums_20260702.sha256'], { cwd: second.report.dir });
  });

  it('writes again when the policy changes how an archive is written', async () => {
    const root = await fixture();
    const dir = await tempDir('ark-pt-');
    await backup(root, dir, '2026-07-01T03:00:00');
    const level9 = resolvePolicy(
      { datasets: { models: { paths: ['models/'] } }, archives: { logs: { gzip_level: 9 } } },
      'test',
    );
    const second = await backup(root, dir, '2026-07-02T03:00:00', { policy: level9 });
    expect(second.report.reused.map((r) => r.archive)).toEqual(['states', 'models', 'infra']);
  });

  it('carries the invalid states a reused archive holds: they are still reported', async () => {
    const root = await fixture();
    await writeFile(join(root, 'state', 'global_context.toml'), 'broken = [\n');
    const dir = await tempDir('ark-pt-');
    const first = await backup(root, dir, '2026-07-01T03:00:00');
    const invalid = first.report.invalidStates.map((s) => s.path).sort();
    expect(invalid).toContain('state/global_context.toml');
    const second = await backup(root, dir, '2026-07-02T03:00:00');
    expect(second.report.reused.map((r) => r.archive)).toContain('states');
    expect(second.report.invalidStates.map((s) => s.path).sort()).toEqual(invalid);
    expect(second.manifest.invalid_states).toContainEqual(
      expect.objectContaining({ path: 'state/global_context.toml', archive: 'states' }),
    );
  });
});

describe('recovery points: what was hashed when', () => {
  it('trusts an archive hashed less than a day ago while its inode, size, mtime and ctime are unchanged; anything else is hashed again', async () => {
    const root = await fixture();
    const dir = await tempDir('ark-pt-');
    const first = await backup(root, dir, '2026-07-01T03:00:00');
    const record = JSON.parse(await readFile(join(dir, VERIFIED_FILE), 'utf8'));
    expect(Object.keys(record.files)).toHaveLength(first.manifest.archives!.length);
    const verified = await VerifiedArchives.load(dir);
    const states = join(first.report.dir, entry(first.manifest, 'states').file);
    const id = await fileIdentity(states);
    const sha = entry(first.manifest, 'states').sha256;
    expect(verified.trusted(id, new Date('2026-07-01T04:00:00'))).toBe(sha);
    expect(verified.trusted(id, new Date('2026-07-02T03:00:01'))).toBeNull(); // a day old: hashed again
    await chmod(states, 0o640); // metadata changed: ctime moved
    expect(verified.trusted(await fileIdentity(states), new Date('2026-07-01T04:00:00'))).toBeNull();
    await chmod(states, 0o600);

    // The next point links the archives and records the linked inodes as they are now.
    const second = await backup(root, dir, '2026-07-01T05:00:00', { point: true });
    const again = await VerifiedArchives.load(dir);
    const linked = join(second.report.dir, entry(second.manifest, 'infra').file);
    expect(again.trusted(await fileIdentity(linked), new Date('2026-07-01T06:00:00'))).toBe(
      entry(second.manifest, 'infra').sha256,
    );
  });
});

describe('recovery points: --point', () => {
  it('names the day first point arkalia_<DATE>, later ones arkalia_<DATE>_<HHMM>, and refuses a second one in the same minute', async () => {
    const root = await fixture();
    const dir = await tempDir('ark-pt-');
    const first = await backup(root, dir, '2026-07-01T00:00:00', { point: true });
    expect(first.report.date).toBe('20260701');
    expect(first.manifest.backup_type).toBe('full_daily');
    const later = await backup(root, dir, '2026-07-01T13:05:00', { point: true });
    expect(later.report.date).toBe('20260701_1305');
    expect(later.manifest.backup_type).toBe('full_point');
    expect(await readdir(later.report.dir)).toEqual(
      expect.arrayContaining([
        'arkalia_states_20260701_1305.tar.gz',
        'checksums_20260701_1305.sha256',
        'backup_manifest_20260701_1305.json',
      ]),
    );
    await run('sha256sum', ['-c', '--quiet', 'checksums_20260701_1305.sha256'], { cwd: later.report.dir });
    await expect(backup(root, dir, '2026-07-01T13:05:40', { point: true })).rejects.toMatchObject({
      code: 'BACKUP_EXISTS',
    });
    await expect(backup(root, dir, '2026-07-01T14:00:00', { point: true, replace: true })).rejects.toMatchObject({
      code: 'USAGE',
    });
  });

  it('checks only the archives that are due: a changed log waits for its 12 hours, a changed state does not', async () => {
    const root = await fixture();
    const dir = await tempDir('ark-pt-');
    const daily = await backup(root, dir, '2026-07-01T03:00:00', { point: true });
    await appendFile(join(root, 'logs', 'arkalia.log'), 'a new line\n');
    await writeFile(join(root, 'state', 'zeroia_dashboard.json'), '{"changed": true}\n');

    const hourly = await backup(root, dir, '2026-07-01T04:00:00', { point: true });
    const states = entry(hourly.manifest, 'states');
    expect(states.reused_from).toBeUndefined(); // states (real time) and the database (PT1H) are due
    expect(states.captured_at).toBe(hourly.manifest.backup_date);
    const logs = entry(hourly.manifest, 'logs');
    expect(hourly.report.reused.find((r) => r.archive === 'logs')).toMatchObject({ carried: true, how: 'link' });
    expect(logs.captured_at).toBe(entry(daily.manifest, 'logs').captured_at); // the older capture, said so
    expect(logs.sha256).toBe(entry(daily.manifest, 'logs').sha256);

    // 12 hours after the logs' capture (a scheduled run up to 10 minutes early counts), they are written again.
    const early = await backup(root, dir, '2026-07-01T14:45:00', { point: true });
    expect(entry(early.manifest, 'logs').reused_from).toBeDefined(); // 11 h 45 min: not yet
    const evening = await backup(root, dir, '2026-07-01T14:51:00', { point: true });
    const fresh = entry(evening.manifest, 'logs');
    expect(fresh.reused_from).toBeUndefined();
    expect(fresh.sha256).not.toBe(entry(daily.manifest, 'logs').sha256);
    // Unchanged and due: linked, and current as of that point.
    expect(entry(evening.manifest, 'infra')).toMatchObject({
      reuse: 'link',
      captured_at: evening.manifest.backup_date,
    });
  });
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
    const report = await disasterRecovery({
      root,
      backupDir: dir,
      policy,
      services: noneController,
      sink: recordingSink(),
      snapshots: false,
      now: () => faultAt,
    });
    expect(report.backup.label).toBe('arkalia_20260701_0500');
    expect(await readFile(db, 'utf8')).toBe('{"decisions": 42, "at": "04:40"}\n');
    const point = report.recoveryPoints.find((p) => p.path === 'state/zeroia_dashboard.json')!;
    expect(point).toMatchObject({ source: 'backup', at: hourly.manifest.backup_date });
    const lostMs = faultAt.getTime() - Date.parse(point.at!);
    expect(lostMs).toBeLessThanOrEqual(3_600_000); // the database's PT1H: 30 minutes lost
    expect(lostMs).toBe(30 * 60_000);
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

describe('placeReused', () => {
  it('copies, verifies and says so where a hard link is impossible (another file system)', async () => {
    const fs = await mountTmpfs('4m');
    try {
      const source = join(fs.dir, 'arkalia_infra_20260701.tar.gz');
      await writeFile(source, 'archive bytes');
      const target = join(await tempDir('ark-pt-'), 'arkalia_infra_20260702.tar.gz');
      const sink = recordingSink();
      const sha256 = (await import('../checksum/index.ts')).sha256Buffer('archive bytes');
      expect(await placeReused(source, target, { sha256, sensitive: true }, sink)).toBe('copy');
      expect(await readFile(target, 'utf8')).toBe('archive bytes');
      expect((await stat(target)).mode & 0o777).toBe(0o600);
      expect(warnings(sink.events)).toEqual(['ARCHIVE_COPIED']);
      const wrong = join(await tempDir('ark-pt-'), 'x.tar.gz');
      await expect(placeReused(source, wrong, { sha256: '0'.repeat(64), sensitive: false }, sink)).rejects.toThrow(
        /does not match its checksum/,
      );
    } finally {
      await fs.unmount();
    }
  });
});
