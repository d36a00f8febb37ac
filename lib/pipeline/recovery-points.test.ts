import { execFile } from 'node:child_process';
import { appendFile, chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { recordingSink } from '../events.ts';
import { resolvePolicy } from '../policy/index.ts';
import { mountTmpfs, tempDir } from '../testing.ts';
import { placeReused } from './reuse-archive.ts';
import { backup, entry, fixture, inode, warnings } from './testing.ts';
import { fileIdentity, VERIFIED_FILE, VerifiedArchives } from './verified-archives.ts';

// Si modifiés and recovery points: every point is complete and GNU-readable; what did not
// change is a hard link to the previous point's verified archive; what changed is written again.

const run = promisify(execFile);

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

  it('keeps which state contents parsed as TOML across a run that reused every archive, so the next point parses only what changed', async () => {
    const root = await fixture();
    const dir = await tempDir('ark-pt-');
    const validKeys = async () =>
      (JSON.parse(await readFile(join(dir, VERIFIED_FILE), 'utf8')) as { valid_toml: string[] }).valid_toml;
    await backup(root, dir, '2026-07-01T03:00:00', { point: true });
    const parsed = await validKeys();
    expect(parsed.length).toBeGreaterThan(3); // the fixture's state TOML files, each parsed once
    // Nothing changed: every archive linked, nothing read. The keys must survive this run.
    const unchanged = await backup(root, dir, '2026-07-01T04:00:00', { point: true });
    expect(unchanged.report.reused.map((r) => r.archive)).toContain('states');
    expect(await validKeys()).toEqual(parsed);
    // One state file changed: the states are written again; the unchanged contents are known.
    await writeFile(join(root, 'state', 'zeroia_dashboard.json'), '{"changed": true}\n');
    const hourly = await backup(root, dir, '2026-07-01T05:00:00', { point: true });
    expect(entry(hourly.manifest, 'states').reused_from).toBeUndefined();
    expect(await validKeys()).toEqual(parsed);
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
