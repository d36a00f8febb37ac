import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { recordingSink } from '../events.ts';
import type { ArkError } from '../errors.ts';
import { FaultFs } from '../io-faults/index.ts';
import { resolvePolicy } from '../policy/index.ts';
import { ProgressReporter } from '../progress.ts';
import { tempDir } from '../testing.ts';
import { archiveCandidate, dailyCandidate } from './backup-candidate.ts';
import type { BackupRef } from './find-backups.ts';

// What a backup candidate vouches for, in-process: which file holds an archive, what verifies
// it (and the words when nothing does), when its data was captured, what its manifest declares.

const policy = resolvePolicy({}, 'built-in');
const STATES = 'arkalia_states_20261125.tar.gz';
const LOGS = 'arkalia_logs_20261125.tar.gz';
const BACKUP_DATE = '2026-11-25T03:00:00+00:00';

const unreachable = (): never => expect.unreachable('it resolved');
const caught = (e: unknown) => e as ArkError;

let shim: FaultFs | null = null;
beforeAll(() => FaultFs.ready());
afterEach(() => {
  shim?.uninstall();
  shim = null;
});

/** A backup folder arkalia_<stamp>: these files, a checksum file listing `listed` (logs first), a manifest when given. */
async function backup(
  options: { stamp?: string; files?: Record<string, string>; listed?: string[]; manifest?: unknown } = {},
): Promise<BackupRef> {
  const stamp = options.stamp ?? '20261125';
  const dir = join(await tempDir('ark-candidate-'), `arkalia_${stamp}`);
  await mkdir(dir);
  const files = options.files ?? { [LOGS]: 'logs', [STATES]: 'states' };
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  const listed = options.listed ?? Object.keys(files);
  const checksumFile = join(dir, `checksums_${stamp}.sha256`);
  await writeFile(checksumFile, listed.map((name) => `${sha256Buffer(files[name] ?? '')}  ${name}\n`).join(''));
  if (options.manifest !== undefined)
    await writeFile(
      join(dir, `backup_manifest_${stamp}.json`),
      typeof options.manifest === 'string' ? options.manifest : JSON.stringify(options.manifest),
    );
  return { date: stamp, dir, statesArchive: join(dir, `arkalia_states_${stamp}.tar.gz`), checksumFile };
}

const runbookManifest = (extra: object = {}) => ({
  backup_date: BACKUP_DATE,
  arkalia_version: '2.8.0',
  backup_size_mb: 1,
  files_count: 4,
  git_commit: null,
  host: 'test',
  backup_type: 'full_daily',
  ...extra,
});
const entry = (name: string, file: string, extra: object = {}) => ({
  name,
  file,
  sha256: 'a'.repeat(64),
  size_bytes: 10,
  members: 3,
  sensitive: false,
  ...extra,
});

describe('dailyCandidate: the archives and what vouches for them', () => {
  it('names the backup by its folder; an archive is the file present among .tar.gz, .tar.zst, .tar (else the .tar.gz name), null when the policy has none', async () => {
    const ref = await backup({ files: { 'arkalia_states_20261125.tar.zst': 'z', 'arkalia_logs_20261125.tar': 't' } });
    await mkdir(join(ref.dir, LOGS)); // a folder under the .tar.gz name is not the archive
    const c = dailyCandidate(ref, policy);
    expect([c.label, c.date, c.dir]).toEqual(['arkalia_20261125', '20261125', ref.dir]);
    expect(await c.archiveFile('states')).toBe(join(ref.dir, 'arkalia_states_20261125.tar.zst'));
    expect(await c.archiveFile('logs')).toBe(join(ref.dir, 'arkalia_logs_20261125.tar'));
    expect(await c.archiveFile('infra')).toBe(join(ref.dir, 'arkalia_infra_20261125.tar.gz'));
    expect(await c.archiveFile('nope')).toBeNull();
  });

  it('verifies only the archive asked for against the checksum file, returning its sha256, and shows the reading', async () => {
    const ref = await backup({ files: { [LOGS]: 'logs', [STATES]: 'states' } });
    await writeFile(join(ref.dir, LOGS), 'logs, one byte flipped'); // not the one asked for
    const sink = recordingSink();
    const progress = new ProgressReporter({ sink, totalBytes: 6 });
    expect(await dailyCandidate(ref, policy).verify('states', progress)).toBe(sha256Buffer('states'));
    expect(sink.events).toContainEqual(
      expect.objectContaining({ kind: 'progress', task: `hash:${join(ref.dir, STATES)}`, done: true, bytes: 6 }),
    );
    expect(await dailyCandidate(ref, policy).verify('states')).toBe(sha256Buffer('states'));
    await expect(dailyCandidate(ref, policy).verify('logs')).rejects.toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      exitCode: 3,
    });
  });

  it('refuses what it cannot verify: an archive the policy lacks, a missing file, one the checksum file does not list', async () => {
    const ref = await backup({ files: { [STATES]: 'states' } });
    const c = dailyCandidate(ref, policy);
    await expect(c.verify('nope')).rejects.toMatchObject({
      code: 'ARCHIVE_MISSING',
      exitCode: 1,
      message: 'the policy defines no archive "nope"',
    });
    await expect(c.verify('logs')).rejects.toMatchObject({
      code: 'ARCHIVE_MISSING',
      message: `${ref.dir} has no ${LOGS}`,
    });
    await rm(join(ref.dir, STATES));
    await mkdir(join(ref.dir, STATES)); // a folder is not an archive
    await expect(c.verify('states')).rejects.toMatchObject({
      code: 'STATES_ARCHIVE_MISSING',
      message: `${ref.dir} has no ${STATES}`,
    });
    const unlisted = await backup({ files: { [LOGS]: 'logs', [STATES]: 'states' }, listed: [LOGS] });
    await expect(dailyCandidate(unlisted, policy).verify('states')).rejects.toMatchObject({
      code: 'CHECKSUM_NOT_LISTED',
      exitCode: 3,
    });
  });

  it('a checksum file gone (or unreadable) is an integrity failure that says what to do, never a missing backup', async () => {
    const ref = await backup();
    await rm(ref.checksumFile);
    const gone = await dailyCandidate(ref, policy).verify('states').then(unreachable, caught);
    expect(gone).toMatchObject({ code: 'CHECKSUM_FILE_MISSING', exitCode: 3 });
    expect(gone.message).toBe(
      `${ref.dir} has no readable checksums_20261125.sha256, so ${STATES} cannot be verified: refusing to extract it. ` +
        'Restore another date (name it as YYYYMMDD), or recover checksums_20261125.sha256 from a copy you trust (offsite) first.',
    );
    expect((gone.cause as { code: string }).code).toBe('CHECKSUM_FILE_MISSING');

    const unreadable = await backup();
    shim = new FaultFs([unreadable.checksumFile]).install();
    shim.arm({ code: 'EIO', nth: 1, persistent: true });
    await expect(dailyCandidate(unreadable, policy).verify('states')).rejects.toMatchObject({
      code: 'CHECKSUM_FILE_MISSING',
      message: expect.stringContaining(
        'has no readable checksums_20261125.sha256 (reading it failed: an I/O error (the disk or its file system failed) (EIO)), so',
      ),
    });
  });

  it('an archive that cannot even be looked at is a disk failure (exit 1), not a missing archive', async () => {
    const ref = await backup();
    shim = new FaultFs([join(ref.dir, STATES)]).install();
    shim.arm({ code: 'EIO', nth: 1, persistent: true });
    const error = await dailyCandidate(ref, policy).verify('states').then(unreachable, caught);
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toMatch(
      new RegExp(`^looking at ${STATES}: stat .* failed: .*\\(EIO\\)\\. Nothing was changed\\.$`),
    );
  });
});

describe('dailyCandidate: the manifest', () => {
  it('without a manifest (the runbook wrote none, or it is damaged) the recovery point is the end of its day, or the minute its stamp names', async () => {
    for (const manifest of [undefined, '{ not json', JSON.stringify({ backup_date: 1 })]) {
      const c = dailyCandidate(await backup({ ...(manifest === undefined ? {} : { manifest }) }), policy);
      expect(await c.recoveryPoint()).toEqual({ display: '2026-11-25', at: new Date(2026, 10, 25, 23, 59, 59) });
      expect(await c.recoveryPoint('states')).toEqual({
        display: '2026-11-25',
        at: new Date(2026, 10, 25, 23, 59, 59),
      });
      expect(await c.declaredMembers('states')).toBeNull();
      expect(await c.declaredTarBytes('states')).toBeNull();
      expect(await c.declaredInvalid()).toEqual(new Set());
    }
    const point = dailyCandidate(await backup({ stamp: '20261125_1305' }), policy);
    expect(await point.recoveryPoint()).toEqual({ display: '2026-11-25 13:05', at: new Date(2026, 10, 25, 13, 5) });
    const folder = await backup();
    await mkdir(join(folder.dir, 'backup_manifest_20261125.json')); // unreadable, but no disk failure: none
    expect((await dailyCandidate(folder, policy).recoveryPoint()).display).toBe('2026-11-25');
  });

  it("the runbook's manifest gives the backup's date for every archive; nothing per archive", async () => {
    const c = dailyCandidate(await backup({ manifest: runbookManifest() }), policy);
    expect(await c.recoveryPoint()).toEqual({ display: BACKUP_DATE, at: new Date(BACKUP_DATE) });
    expect(await c.recoveryPoint('states')).toEqual({ display: BACKUP_DATE, at: new Date(BACKUP_DATE) });
    expect(await c.declaredMembers('states')).toBeNull();
    expect(await c.declaredTarBytes('states')).toBeNull();
    expect(await c.declaredInvalid()).toEqual(new Set());
  });

  it('per archive: its captured_at (when it is a date), the members and tar bytes of its file, and the states recorded invalid', async () => {
    const earlier = '2026-11-24T03:00:00+00:00';
    const c = dailyCandidate(
      await backup({
        manifest: runbookManifest({
          archives: [
            entry('logs', LOGS, { captured_at: 'yesterday' }),
            entry('states', STATES, { captured_at: earlier, members: 12, tar_bytes: 10240 }),
          ],
          invalid_states: [{ path: 'modules/zeroia/state/x.toml', reason: 'bad' }],
        }),
      }),
      policy,
    );
    expect(await c.recoveryPoint('states')).toEqual({ display: earlier, at: new Date(earlier) });
    expect(await c.recoveryPoint('logs')).toEqual({ display: BACKUP_DATE, at: new Date(BACKUP_DATE) });
    expect(await c.recoveryPoint('infra')).toEqual({ display: BACKUP_DATE, at: new Date(BACKUP_DATE) });
    expect(await c.recoveryPoint()).toEqual({ display: BACKUP_DATE, at: new Date(BACKUP_DATE) });
    expect(await c.declaredMembers('states')).toBe(12);
    expect(await c.declaredTarBytes('states')).toBe(10240);
    expect(await c.declaredTarBytes('logs')).toBeNull(); // older manifests carry no tar_bytes
    expect(await c.declaredMembers('infra')).toBeNull();
    expect(await c.declaredMembers('nope')).toBeNull();
    expect(await c.declaredTarBytes('nope')).toBeNull();
    expect(await c.declaredInvalid()).toEqual(new Set(['modules/zeroia/state/x.toml']));
  });

  it('a manifest that cannot be read (a disk failure) stops: what it says decides what may be restored', async () => {
    const ref = await backup({ manifest: runbookManifest() });
    shim = new FaultFs([join(ref.dir, 'backup_manifest_20261125.json')]).install();
    shim.arm({ code: 'EIO', nth: 1, persistent: true });
    const error = await dailyCandidate(ref, policy).declaredInvalid().then(unreachable, caught);
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toMatch(/^reading backup_manifest_20261125\.json: .*\(EIO\)\. Nothing was changed\.$/);
  });
});

describe('archiveCandidate: one archive and the sha256 it must have', () => {
  it('is that archive only, named after its file unless told; everything else is what it was given, or unknown', async () => {
    const file = join(await tempDir('ark-candidate-'), STATES);
    await writeFile(file, 'states');
    const bare = archiveCandidate({ archive: 'states', file, sha256: sha256Buffer('states') });
    expect([bare.label, bare.date, bare.dir]).toEqual([STATES, null, null]);
    expect(await bare.archiveFile('states')).toBe(file);
    expect(await bare.archiveFile('logs')).toBeNull();
    expect(await bare.recoveryPoint()).toEqual({ display: null, at: null });
    expect([await bare.declaredMembers('states'), await bare.declaredTarBytes('states')]).toEqual([null, null]);
    expect(await bare.declaredInvalid()).toEqual(new Set());
    const point = { display: '2026-11-25', at: new Date(2026, 10, 25) };
    const told = archiveCandidate({
      archive: 'states',
      file,
      sha256: sha256Buffer('states'),
      label: 'offsite 20261125',
      date: '20261125',
      recoveryPoint: point,
      members: 5,
      tarBytes: 2048,
      declaredInvalid: ['state/a.toml'],
    });
    expect([told.label, told.date]).toEqual(['offsite 20261125', '20261125']);
    expect(await told.recoveryPoint('states')).toBe(point);
    expect([await told.declaredMembers('states'), await told.declaredTarBytes('states')]).toEqual([5, 2048]);
    expect(await told.declaredInvalid()).toEqual(new Set(['state/a.toml']));
  });

  it('verifies its bytes against the sha256 (any case), refusing another archive, a missing file and a mismatch', async () => {
    const dir = await tempDir('ark-candidate-');
    const file = join(dir, STATES);
    await writeFile(file, 'states');
    const sink = recordingSink();
    const c = archiveCandidate({ archive: 'states', file, sha256: sha256Buffer('states').toUpperCase() });
    expect(await c.verify('states', new ProgressReporter({ sink, totalBytes: 6 }))).toBe(sha256Buffer('states'));
    expect(sink.events).toContainEqual(expect.objectContaining({ task: `hash:${file}`, done: true, bytes: 6 }));
    await expect(c.verify('logs')).rejects.toMatchObject({
      code: 'ARCHIVE_MISSING',
      message: `${STATES} is the states archive, not logs`,
    });
    const wrong = archiveCandidate({ archive: 'states', file, sha256: 'b'.repeat(64) });
    const error = await wrong.verify('states').then(unreachable, caught);
    expect(error).toMatchObject({ code: 'CHECKSUM_MISMATCH', exitCode: 3 });
    expect(error.message).toBe(
      `checksum verification failed:\n  ${STATES}: sha256 ${sha256Buffer('states')} != expected ${'b'.repeat(64)}`,
    );
    expect(error.details).toEqual({ failed: [{ name: STATES, problem: 'mismatch' }] });
    await expect(
      archiveCandidate({ archive: 'states', file: join(dir, 'gone', STATES), sha256: 'b'.repeat(64) }).verify('states'),
    ).rejects.toMatchObject({ code: 'STATES_ARCHIVE_MISSING', exitCode: 1, message: `the backup has no ${STATES}` });
    await expect(
      archiveCandidate({ archive: 'logs', file: join(dir, LOGS), sha256: 'b'.repeat(64) }).verify('logs'),
    ).rejects.toMatchObject({ code: 'ARCHIVE_MISSING', message: `the backup has no ${LOGS}` });
  });
});
