import { lstat, mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type RawEntry, tarEntry, tarGz } from '../archive/testing.ts';
import { sha256Buffer } from '../checksum/index.ts';
import type { ArkEvent } from '../events.ts';
import { recordingSink } from '../events.ts';
import { resolvePolicy } from '../policy/index.ts';
import { tempDir } from '../testing.ts';
import { archiveCandidate, type BackupCandidate, dailyCandidate } from './backup-candidate.ts';
import { moduleStateScope, type RestoreScope, systemScope } from './restore-scope.ts';
import { listFiles, type StageOptions, stageBackup } from './stage-backup.ts';

// What stageBackup stages and what it refuses, in-process, from archives made byte by byte.

const policy = resolvePolicy({}, 'built-in');
const STATES = 'arkalia_states_20261125.tar.gz';
const STATE = 'modules/zeroia/state/zeroia_state.toml';
const file = (name: string, content = ''): RawEntry => ({ name, type: '0', data: Buffer.from(content) });
const gone = (path: string) =>
  lstat(path).then(
    () => false,
    () => true,
  );

/** A states archive of `entries` in a temp folder, as a candidate vouching for it. */
async function statesCandidate(entries: RawEntry[], extra: Partial<Parameters<typeof archiveCandidate>[0]> = {}) {
  const dir = await tempDir('ark-stage-rules-');
  const bytes = tarGz(entries.map(tarEntry));
  const path = join(dir, STATES);
  await writeFile(path, bytes);
  const candidate = archiveCandidate({ archive: 'states', file: path, sha256: sha256Buffer(bytes), ...extra });
  return { dir, path, size: bytes.length, sha256: sha256Buffer(bytes), candidate };
}

/** A daily backup folder holding these archives (archive name → entries), checksummed. */
async function dailyBackup(archives: Record<string, RawEntry[]>) {
  const dir = join(await tempDir('ark-stage-rules-'), 'arkalia_20261125');
  await mkdir(dir);
  const sums: string[] = [];
  const sizes: Record<string, number> = {};
  for (const [archive, entries] of Object.entries(archives)) {
    const bytes = tarGz(entries.map(tarEntry));
    const name = `${policy.archives[archive]!.prefix}_20261125.tar.gz`;
    await writeFile(join(dir, name), bytes);
    sums.push(`${sha256Buffer(bytes)}  ${name}\n`);
    sizes[archive] = bytes.length;
  }
  const checksumFile = join(dir, 'checksums_20261125.sha256');
  await writeFile(checksumFile, sums.join(''));
  const ref = { date: '20261125', dir, statesArchive: join(dir, STATES), checksumFile };
  return { dir, sizes, candidate: dailyCandidate(ref, policy) };
}

async function run(
  candidate: BackupCandidate,
  scope: RestoreScope = moduleStateScope('zeroia'),
  more: Partial<StageOptions> = {},
) {
  const sink = recordingSink();
  const stagingDir = join(await tempDir('ark-staging-'), 'deep', 'staging');
  const staged = await stageBackup({ candidate, scope, stagingDir, sink, ...more });
  return { staged, sink, stagingDir };
}

async function failure(
  candidate: BackupCandidate,
  scope: RestoreScope = moduleStateScope('zeroia'),
  more: Partial<StageOptions> = {},
) {
  const stagingDir = join(await tempDir('ark-staging-'), 'staging');
  const error = await stageBackup({ candidate, scope, stagingDir, sink: recordingSink(), ...more }).then(
    () => null as never as Error & { code: string; details: Record<string, unknown> },
    (e: unknown) => e as Error & { code: string; details: Record<string, unknown> },
  );
  expect(await gone(stagingDir)).toBe(true); // on failure the staging folder is gone
  return error;
}

const progressOf = (events: ArkEvent[]) => events.filter((e) => e.kind === 'progress');

describe('stageBackup: what it stages', () => {
  it("stages the scope's members in path order, each with its sha256, source and recovery point, into a private folder", async () => {
    const at = new Date(2026, 10, 25, 3);
    const { path, size, sha256, candidate } = await statesCandidate(
      [
        file('modules/zeroia/state/c.toml', 'c = 3\n'),
        file('modules/zeroia/state/b.json', '{}'),
        file('modules/other/state/x.toml', 'x = 1\n'),
        file('modules/zeroia/state/a.toml', 'a = 1\n'),
      ],
      { recoveryPoint: { display: '2026-11-25 03:00', at } },
    );
    const { staged, sink, stagingDir } = await run(candidate);
    expect([...staged.files.keys()]).toEqual([
      'modules/zeroia/state/a.toml',
      'modules/zeroia/state/b.json',
      'modules/zeroia/state/c.toml',
    ]);
    expect(staged.files.get('modules/zeroia/state/b.json')).toEqual({
      sha256: sha256Buffer('{}'),
      source: 'backup',
      at: '2026-11-25 03:00',
      atTime: at,
    });
    expect(staged).toMatchObject({ dir: stagingDir, refused: [], knownInvalid: [], skipped: [] });
    expect(staged.recoveryPoint).toEqual({ display: '2026-11-25 03:00', at });
    expect((await stat(stagingDir)).mode & 0o777).toBe(0o700);

    // It said what verified, and showed progress against twice the archive's bytes (read to verify, then to extract).
    expect(sink.events).toContainEqual({ kind: 'checksum-verified', file: path, sha256 });
    const progress = progressOf(sink.events) as Extract<ArkEvent, { kind: 'progress' }>[];
    expect(progress[0]?.overall?.totalBytes).toBe(2 * size);
    const extract = progress.filter((e) => e.task === 'extract:states');
    expect(extract[0]).toMatchObject({
      label: `restoring from ${STATES}`,
      totalBytes: size,
      totalFiles: null,
      done: false,
    });
    expect(extract[0]?.bytes).toBeGreaterThan(0);
    expect(extract.at(-1)).toMatchObject({ done: true, bytes: size, files: 3 });

    await staged.discard();
    expect(await gone(stagingDir)).toBe(true);
    await staged.discard(); // idempotent
  });

  it('refuses unsafe entries (a link), saying so, and stages the rest; a non-TOML file held twice is not parsed', async () => {
    const { candidate } = await statesCandidate([
      file(STATE, 'score = 1\n'),
      { name: 'modules/zeroia/state/link.toml', type: '2', linkname: '/etc/passwd' },
      file('modules/zeroia/state/notes.json', '{}'),
      file('modules/zeroia/state/notes.json', '{ }'),
    ]);
    const { staged, sink } = await run(candidate);
    expect(staged.refused).toEqual([
      { entry: 'modules/zeroia/state/link.toml', reason: 'entry type SymbolicLink is not restored' },
    ]);
    expect(sink.events).toContainEqual({
      kind: 'entry-refused',
      entry: 'modules/zeroia/state/link.toml',
      reason: 'entry type SymbolicLink is not restored',
    });
    expect([...staged.files.keys()]).toEqual(['modules/zeroia/state/notes.json', STATE]);
    expect(staged.files.get('modules/zeroia/state/notes.json')?.sha256).toBe(sha256Buffer('{ }'));
  });

  it('an aborted restore stops, leaving no staging folder', async () => {
    const { candidate } = await statesCandidate([file(STATE, 'score = 1\n')]);
    const error = await failure(candidate, moduleStateScope('zeroia'), { signal: AbortSignal.abort() });
    expect(error.name).toBe('AbortError');
  });
});

describe('stageBackup: invalid TOML', () => {
  const BAD = 'modules/zeroia/state/bad.toml';
  const WORSE = 'modules/zeroia/state/worse.toml';
  const broken = (): RawEntry[] => [file(STATE, 'score = 1\n'), file(WORSE, 'a = \n'), file(BAD, '<<<<<<< HEAD\n')];
  const conflict = 'git merge-conflict markers (line 1: "<<<<<<< HEAD")';

  it('rejects the backup naming each invalid state, unless it had recorded them invalid and the restore accepts that', async () => {
    const { candidate } = await statesCandidate(broken(), { declaredInvalid: [BAD, WORSE] });
    const error = await failure(candidate);
    expect(error).toMatchObject({ code: 'BACKUP_STATE_INVALID', exitCode: 3 });
    const invalid = error.details.invalid as string[];
    expect(invalid).toHaveLength(2);
    expect(invalid[0]).toBe(`${BAD}: ${conflict}`);
    expect(invalid[1]).toMatch(new RegExp(`^${WORSE}: .+`));
    expect(error.message).toBe(
      `the backup's state is not valid TOML, refusing to restore it:\n  ${invalid[0]}\n  ${invalid[1]}`,
    );

    const { staged } = await run(candidate, moduleStateScope('zeroia'), { acceptDeclaredInvalid: true });
    expect(staged.knownInvalid).toEqual([
      { path: BAD, reason: conflict },
      { path: WORSE, reason: invalid[1]!.slice(WORSE.length + 2) },
    ]);
    expect(staged.files.has(BAD)).toBe(true);

    // Accepting the declared ones does not accept the others.
    const partly = (await statesCandidate(broken(), { declaredInvalid: [WORSE] })).candidate;
    const other = await failure(partly, moduleStateScope('zeroia'), { acceptDeclaredInvalid: true });
    expect(other.details).toEqual({ invalid: [`${BAD}: ${conflict}`] });
  });
});

describe('stageBackup: what it refuses', () => {
  it('a backup holding nothing in scope is the scope\'s "missing" error, naming the archive (or "its archives" when none was read)', async () => {
    const { candidate } = await statesCandidate([file('modules/other/state/x.toml', 'x = 1\n')], {
      label: 'arkalia_20261125',
    });
    const error = await failure(candidate);
    expect(error).toMatchObject({ code: 'MODULE_NOT_IN_BACKUP', exitCode: 1 });
    expect(error.message).toBe(
      `backup arkalia_20261125 holds no state for module "zeroia" (no modules/zeroia/state/ in ${STATES})`,
    );
    const both = await dailyBackup({ states: [file('other/x')], infra: [file('other/y')] });
    expect((await failure(both.candidate, systemScope(policy))).message).toBe(
      'backup arkalia_20261125 holds nothing to restore (no states, configs, infra, database data in ' +
        `${STATES}, arkalia_infra_20261125.tar.gz)`,
    );
    const infraOnly = await failure(candidate, systemScope(policy, ['infra']));
    expect(infraOnly).toMatchObject({ code: 'NOTHING_IN_BACKUP' });
    expect(infraOnly.message).toBe('backup arkalia_20261125 holds nothing to restore (no infra data in its archives)');
  });

  it('caps entries at twice what the manifest declares plus 1000 (unknown: the default cap); the caller may set its own', async () => {
    const many = [...Array.from({ length: 1004 }, (_, i) => file(`other/${i}`)), file(STATE, 'score = 1\n')];
    const { candidate } = await statesCandidate(many);
    const declaring = (members: number): BackupCandidate => ({
      ...candidate,
      declaredMembers: async (archive) => (archive === 'states' ? members : null),
    });
    expect((await run(candidate)).staged.files.size).toBe(1);
    const over = await failure(declaring(2));
    expect(over).toMatchObject({ code: 'ARCHIVE_LIMIT_EXCEEDED', exitCode: 3 });
    expect(over.message).toContain(': more than 1004 entries (--max-entries)');
    const own = await failure(declaring(3), moduleStateScope('zeroia'), { limits: { maxEntries: 10 } });
    expect(own.message).toContain(': more than 10 entries (--max-entries)');
  });
});

describe('stageBackup: optional archives (disaster recovery)', () => {
  const states = [file('state/global.toml', 'g = 1\n'), file('config/app.toml', 'c = 1\n')];

  it('an optional archive the backup lacks is skipped with a warning; a present one is verified and staged', async () => {
    const without = await dailyBackup({ states });
    const { staged, sink } = await run(without.candidate, systemScope(policy));
    expect(staged.skipped).toEqual(['infra']);
    expect(sink.events).toContainEqual({
      kind: 'warning',
      code: 'ARCHIVE_ABSENT',
      message: 'arkalia_20261125 has no infra archive: that data is left as it is',
    });
    expect(progressOf(sink.events)[0]).toMatchObject({ overall: { totalBytes: 2 * without.sizes.states! } });
    expect([...staged.files.keys()]).toEqual(['config/app.toml', 'state/global.toml']);

    const withInfra = await dailyBackup({ states, infra: [file('version.toml', 'current_version = "2.8.0"\n')] });
    const both = await run(withInfra.candidate, systemScope(policy));
    expect(both.staged.skipped).toEqual([]);
    expect([...both.staged.files.keys()]).toEqual(['config/app.toml', 'state/global.toml', 'version.toml']);
    expect(progressOf(both.sink.events)[0]).toMatchObject({
      overall: { totalBytes: 2 * (withInfra.sizes.states! + withInfra.sizes.infra!) },
    });
    expect(both.sink.events.filter((e) => e.kind === 'checksum-verified')).toHaveLength(2);

    // One archive the policy defines but this candidate does not hold at all: skipped too.
    const single = await statesCandidate(states);
    expect((await run(single.candidate, systemScope(policy))).staged.skipped).toEqual(['infra']);
  });

  it('a required archive the backup lacks is never skipped: the backup is rejected', async () => {
    const { candidate } = await dailyBackup({ infra: [file('version.toml', 'current_version = "2.8.0"\n')] });
    expect(await failure(candidate, systemScope(policy))).toMatchObject({ code: 'STATES_ARCHIVE_MISSING' });
  });
});

describe('listFiles', () => {
  it('lists the regular files under a folder, relative and sorted, links left out', async () => {
    const dir = await tempDir('ark-list-');
    for (const rel of ['z.txt', 'a/d/e.txt', 'b.txt', 'a/c.txt', 'a.txt']) {
      await mkdir(join(dir, rel, '..'), { recursive: true });
      await writeFile(join(dir, rel), rel);
    }
    await symlink('b.txt', join(dir, 'link'));
    expect(await listFiles(dir)).toEqual(['a.txt', 'a/c.txt', 'a/d/e.txt', 'b.txt', 'z.txt']);
    expect(await listFiles(dir, 'a')).toEqual(['a/c.txt', 'a/d/e.txt']);
  });
});
