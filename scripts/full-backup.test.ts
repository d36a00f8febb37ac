// scripts/full-backup.mts, run as an operator runs it: a subprocess, its exit code, its
// stdout/stderr, and the files it leaves, checked with the GNU tools the runbook uses.
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { localDateStamp } from '../lib/layout/index.ts';
import { checkoutReadableBy, copyFixture, tempDir, treeContents } from '../lib/testing.ts';
import { envelopeOf, resultOf, startScript, type ScriptOptions, type ScriptRun } from './testing.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const INVALID_STATES = ['state/global_context.toml', 'state/reflexia_state.toml'];
const STATES_MEMBER = /^(modules\/[^/]+\/state\/|state\/|global_state\/|config\/|\.env$)/;

/** How to start it (see startScript), and what the environment adds. */
type RunOptions = ScriptOptions & { env?: Record<string, string> };

const start = (args: string[], { env, ...options }: RunOptions = {}) => startScript('full-backup', args, env, options);
const backup = (args: string[], options?: RunOptions): Promise<ScriptRun> => start(args, options).done;

function expectNoStackTrace(outcome: ScriptRun): void {
  expect(outcome.stderr).not.toMatch(/^\s+at /m);
  expect(outcome.stdout).not.toMatch(/^\s+at /m);
}

/** The fixture with its two conflict-marker files resolved (the dev-migration side kept). */
async function fixStates(root: string): Promise<void> {
  for (const path of INVALID_STATES) {
    const text = await readFile(join(root, path), 'utf8');
    await writeFile(join(root, path), text.replace(/^<{7} .*\n[\s\S]*?^={7}\n([\s\S]*?)^>{7} .*\n/gm, '$1'));
  }
}

async function sha256sum(file: string): Promise<string> {
  return (await run('sha256sum', [file])).stdout.split(' ')[0]!;
}

async function tarList(file: string): Promise<string[]> {
  return (await run('tar', ['-tzf', file])).stdout.trim().split('\n');
}

interface Manifest {
  backup_date: string;
  arkalia_version: string | null;
  backup_size_mb: number;
  files_count: number;
  git_commit: string | null;
  host: string;
  backup_type: string;
  date: string;
  archives: { name: string; file: string; sha256: string; size_bytes: number; members: number; sensitive: boolean }[];
  invalid_states: { path: string; reason: string }[];
}

/**
 * The published folder holds exactly the archives, the checksum file and the manifest, and
 * every fact the manifest states about them is true of the files (checked with GNU tools).
 */
async function expectConsistentBackup(dir: string, date: string): Promise<Manifest> {
  const manifestName = `backup_manifest_${date}.json`;
  const checksumName = `checksums_${date}.sha256`;
  const manifest = JSON.parse(await readFile(join(dir, manifestName), 'utf8')) as Manifest;
  const names = (await readdir(dir)).sort();
  expect(names).toEqual([...manifest.archives.map((a) => a.file), checksumName, manifestName].sort());
  expect(manifest).toMatchObject({ backup_type: 'full_daily', host: hostname(), date, files_count: names.length });
  expect(manifest.backup_date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
  let total = 0;
  for (const archive of manifest.archives) {
    const file = join(dir, archive.file);
    const info = await stat(file);
    total += info.size;
    expect(archive.file).toBe(
      `${{ states: 'arkalia_states', logs: 'arkalia_logs', models: 'ollama_models', infra: 'arkalia_infra' }[archive.name]}_${date}.tar.gz`,
    );
    expect(archive.sha256, archive.file).toBe(await sha256sum(file));
    expect(archive.size_bytes, archive.file).toBe(info.size);
    const members = await tarList(file);
    expect(archive.members, archive.file).toBe(members.length);
    if (members.includes('.env')) expect(info.mode & 0o077, `${archive.file} holds .env`).toBe(0);
  }
  const check = await run('sha256sum', ['-c', checksumName], { cwd: dir });
  expect(check.stdout.trim().split('\n').sort()).toEqual(manifest.archives.map((a) => `${a.file}: OK`).sort());
  total += (await stat(join(dir, checksumName))).size + (await stat(join(dir, manifestName))).size;
  expect(Number.isInteger(manifest.backup_size_mb) && manifest.backup_size_mb >= 1).toBe(true);
  expect(Math.abs(manifest.backup_size_mb - total / MiB)).toBeLessThanOrEqual(1);
  return manifest;
}

/** Poll until `probe` returns a value; fail if the process ends first. */
async function waitFor<T>(probe: () => Promise<T | undefined>, child: ChildProcess, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the backup ended before ${what}`);
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('full-backup.mts: command line', { timeout: 60_000 }, () => {
  it('--help prints usage on stdout and exits 0, also when run through zx', async () => {
    for (const viaZx of [false, true]) {
      const outcome = await backup(['--help'], { viaZx });
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(outcome.stdout).toMatch(/^Usage: full-backup\.mts/);
      for (const flag of [
        '--root DIR',
        'ARK_ROOT',
        '--backup-dir DIR',
        'ARK_BACKUP_DIR',
        '--date YYYYMMDD',
        '--policy FILE',
        '--json',
        '--replace',
      ]) {
        expect(outcome.stdout).toContain(flag);
      }
      expect(outcome.stderr).toBe('');
    }
  });

  it('rejects bad input with exit 2, a message naming the problem, no stack trace and no backup written', async () => {
    const work = await tempDir('ark-badinput-');
    const backupDir = join(work, 'backup');
    await mkdir(backupDir);
    const root = await copyFixture();
    await writeFile(join(work, 'bad-syntax.toml'), '[datasets.models]\npaths = ["models/"\n');
    await writeFile(join(work, 'bad-field.toml'), '[datasets.logs]\nfrequency = "12 hours"\n');
    const common = ['--root', root, '--backup-dir', backupDir];
    const cases: { args: string[]; message: RegExp }[] = [
      // --json too: the usage error is then also a JSON document on stdout, although the flags did not parse.
      { args: [...common, '--json', '--bogus'], message: /Unknown option '--bogus'/ },
      {
        args: [...common, '--date', '20261341'],
        message: /--date must be a calendar date as YYYYMMDD, got "20261341"/,
      },
      {
        args: [...common, '--policy', join(work, 'missing.toml')],
        message: /cannot read policy file .*missing\.toml: ENOENT/,
      },
      {
        args: [...common, '--policy', join(work, 'bad-syntax.toml')],
        message: /bad-syntax\.toml: not valid TOML \(line \d+/,
      },
      {
        args: [...common, '--policy', join(work, 'bad-field.toml')],
        message: /bad-field\.toml: invalid policy:\n\s+- datasets\.logs\.frequency: expected/,
      },
      {
        args: ['--root', join(work, 'no-such-root'), '--backup-dir', backupDir, '--date', '20260101'],
        message: /Arkalia root .*no-such-root is not a folder/,
      },
    ];
    const outcomes = await Promise.all(cases.map((c) => backup(c.args)));
    outcomes.forEach((outcome, i) => {
      const { args, message } = cases[i]!;
      const label = args.join(' ');
      expect(outcome.code, `${label}\n${outcome.stderr}`).toBe(2);
      expect(outcome.stderr, label).toMatch(message);
      expect(outcome.stderr, label).toMatch(/^✗ /m);
      expectNoStackTrace(outcome);
      if (args.includes('--json')) {
        expect(envelopeOf(outcome, 'full-backup'), label).toMatchObject({
          ok: false,
          exit_code: 2,
          error: { code: 'USAGE', message: expect.stringMatching(message) },
        });
      } else {
        expect(outcome.stdout, label).toBe('');
      }
    });
    expect(await readdir(backupDir)).toEqual([]);
  });

  it('ARK_TAR: a bad value, or gnu where the tar on PATH is not GNU tar, is refused with exit 2 before anything is written', async () => {
    const work = await tempDir('ark-tarchoice-');
    const fakeBin = join(work, 'bin');
    await mkdir(fakeBin);
    await writeFile(join(fakeBin, 'tar'), '#!/bin/sh\necho "bsdtar 3.6.2 - libarchive 3.6.2"\n', { mode: 0o755 });
    const backupDir = join(work, 'backup');
    const common = ['--root', await copyFixture(), '--backup-dir', backupDir, '--date', '20260101'];
    const bogus = await backup(common, { env: { ARK_TAR: 'star' } });
    expect(bogus.code, bogus.stderr).toBe(2);
    expect(bogus.stderr).toMatch(/ARK_TAR must be "builtin", "gnu", "node" or "auto", got "star"/);
    const notGnu = await backup(common, { env: { ARK_TAR: 'gnu', PATH: `${fakeBin}:${process.env.PATH}` } });
    expect(notGnu.code, notGnu.stderr).toBe(2);
    expect(notGnu.stderr).toMatch(/^✗ packing with GNU tar \(ARK_TAR=gnu\) needs GNU tar >= 1\.28 on PATH/m);
    expectNoStackTrace(bogus);
    expectNoStackTrace(notGnu);
    expect(await readdir(backupDir).catch(() => [])).toEqual([]);
  });
});

describe('full-backup.mts: what it writes', { timeout: 60_000 }, () => {
  it('backs up the fixture: runbook layout, GNU-readable, manifest true to the files, invalid states named, exit 3', async () => {
    const root = await copyFixture();
    const backupDir = await tempDir('ark-backup-');
    const date = '20260315';
    const outcome = await backup(['--root', root, '--backup-dir', backupDir, '--date', date, '--json']);
    expect(outcome.code, outcome.stderr).toBe(3);
    expectNoStackTrace(outcome);

    // Human report on stderr names both invalid files; stdout holds one JSON document and nothing else.
    for (const path of INVALID_STATES)
      expect(outcome.stderr).toMatch(new RegExp(`invalid TOML: ${path} — git merge-conflict markers`));
    expect(outcome.stderr).toMatch(/2 state file\(s\) are invalid TOML/);
    const envelope = envelopeOf(outcome, 'full-backup');
    expect(envelope).toMatchObject({ ok: false, exit_code: 3, policy: 'built-in', error: null });
    const result = envelope.result as { backup_dir: string; invalid_states: { path: string }[]; manifest: Manifest };
    expect(result).toMatchObject({ backup_dir: join(backupDir, 'daily', `arkalia_${date}`) });
    expect(result.invalid_states.map((s) => s.path).sort()).toEqual(INVALID_STATES);

    // Only the published folder, nothing hidden beside it.
    const daily = join(backupDir, 'daily');
    expect(await readdir(daily)).toEqual([`arkalia_${date}`]);
    const dir = join(daily, `arkalia_${date}`);
    const manifest = await expectConsistentBackup(dir, date);
    expect(result.manifest).toEqual(manifest);
    const expected = ['states', 'logs', ...(existsSync('/var/lib/ollama/models') ? ['models'] : []), 'infra'];
    expect(manifest.archives.map((a) => a.name)).toEqual(expected);
    expect(manifest).toMatchObject({ arkalia_version: '2.8.0', git_commit: null });
    expect(manifest.invalid_states.map((s) => s.path).sort()).toEqual(INVALID_STATES);
    const states = manifest.archives.find((a) => a.name === 'states')!;
    expect(states.sensitive).toBe(true);
    expect((await stat(join(dir, states.file))).mode & 0o777).toBe(0o600);

    // Archive contents, listed by GNU tar.
    const statesMembers = await tarList(join(dir, `arkalia_states_${date}.tar.gz`));
    expect(statesMembers).toEqual(
      expect.arrayContaining([
        '.env',
        'config/zeroia_config.toml',
        'global_state/global_context.toml',
        'modules/zeroia/state/zeroia_state.toml',
        ...INVALID_STATES,
      ]),
    );
    expect(statesMembers.filter((m) => !STATES_MEMBER.test(m))).toEqual([]);
    expect(await tarList(join(dir, `arkalia_logs_${date}.tar.gz`))).toContain('logs/arkalia_api.log');
    expect((await tarList(join(dir, `arkalia_infra_${date}.tar.gz`))).sort()).toEqual([
      'docker-compose.yml',
      'version.toml',
    ]);

    // GNU tar -xzf gives back the state files byte for byte, invalid ones included.
    const target = await tempDir('ark-extract-');
    await run('tar', ['-xzf', join(dir, `arkalia_states_${date}.tar.gz`), '-C', target]);
    const restored = await treeContents(target);
    const original = new Map([...(await treeContents(root))].filter(([path]) => STATES_MEMBER.test(path)));
    expect([...restored.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [path, content] of restored) expect(content.equals(original.get(path)!), path).toBe(true);
  });

  it('exits 0 once the states are valid; root from the cwd, backup dir from ARK_BACKUP_DIR, date today; git HEAD, models and .env via --policy', async () => {
    const root = await copyFixture();
    await fixStates(root);
    await mkdir(join(root, 'models', 'blobs'), { recursive: true });
    await mkdir(join(root, 'models', 'manifests', 'library', 'tinyllama'), { recursive: true });
    await writeFile(join(root, 'models', 'blobs', 'sha256-0123'), randomBytes(64 * 1024));
    await writeFile(join(root, 'models', 'manifests', 'library', 'tinyllama', 'latest'), '{"layers":[]}\n');
    const git = ['-c', 'user.name=ark', '-c', 'user.email=ark@example.invalid', '-c', 'commit.gpgsign=false'];
    await run('git', ['init', '-q'], { cwd: root });
    await run('git', ['add', '-A'], { cwd: root });
    await run('git', [...git, 'commit', '-q', '-m', 'state'], { cwd: root });
    const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: root })).stdout.trim();
    const work = await tempDir('ark-policy-');
    const policy = join(work, 'models.toml');
    // Also moves config/ and .env into the (non-sensitive) infra archive: .env still makes it 0600.
    await writeFile(policy, '[datasets.models]\npaths = ["models/"]\n[datasets.configs]\narchive = "infra"\n');
    const backupDir = await tempDir('ark-backup-');

    const before = localDateStamp(new Date());
    const outcome = await backup(['--policy', policy], { cwd: root, env: { ARK_BACKUP_DIR: backupDir } });
    const after = localDateStamp(new Date());
    expect(outcome.code, outcome.stderr).toBe(0);
    expectNoStackTrace(outcome);
    expect(outcome.stderr).not.toMatch(/invalid TOML/);
    expect(outcome.stderr).toMatch(/backup complete/);
    expect(outcome.stdout).toBe('');

    const [name] = await readdir(join(backupDir, 'daily'));
    expect([`arkalia_${before}`, `arkalia_${after}`]).toContain(name);
    const date = name!.slice('arkalia_'.length);
    const dir = join(backupDir, 'daily', name!);
    const manifest = await expectConsistentBackup(dir, date);
    expect(manifest).toMatchObject({ git_commit: head, arkalia_version: '2.8.0', invalid_states: [] });
    expect(manifest.archives.map((a) => a.name)).toEqual(['states', 'logs', 'models', 'infra']);
    const infra = manifest.archives.find((a) => a.name === 'infra')!;
    expect(await tarList(join(dir, infra.file))).toEqual(
      expect.arrayContaining(['.env', 'config/zeroia_config.toml', 'docker-compose.yml']),
    );
    expect(infra.sensitive).toBe(true);
    expect((await stat(join(dir, infra.file))).mode & 0o777).toBe(0o600);
    expect(await tarList(join(dir, `arkalia_states_${date}.tar.gz`))).not.toContain('.env');
    expect((await stat(join(dir, `arkalia_logs_${date}.tar.gz`))).mode & 0o077).not.toBe(0); // not everything is 0600
    expect((await tarList(join(dir, `ollama_models_${date}.tar.gz`))).sort()).toEqual([
      'models/',
      'models/blobs/',
      'models/blobs/sha256-0123',
      'models/manifests/',
      'models/manifests/library/',
      'models/manifests/library/tinyllama/',
      'models/manifests/library/tinyllama/latest',
    ]);
  });
});

describe('full-backup.mts: --dry-run', { timeout: 60_000 }, () => {
  it('prints each archive it would write and the invalid states, writes nothing, exits 3 like a real run', async () => {
    const root = await copyFixture();
    const backupDir = await tempDir('ark-backup-');
    const outcome = await backup([
      '--root',
      root,
      '--backup-dir',
      backupDir,
      '--date',
      '20260316',
      '--dry-run',
      '--json',
    ]);
    expect(outcome.code, outcome.stderr).toBe(3);
    expect(outcome.stderr).toMatch(
      /\[dry run\] would write arkalia_states_20260316\.tar\.gz \(mode 0600, gzip 6\): \.env config\//,
    );
    expect(outcome.stderr).toMatch(/\[dry run\] would write arkalia_infra_20260316\.tar\.gz .*version\.toml/);
    for (const path of INVALID_STATES) expect(outcome.stderr).toContain(`invalid TOML: ${path}`);
    const result = resultOf(outcome, 'full-backup') as { dry_run: boolean; manifest: unknown };
    expect(result).toMatchObject({ dry_run: true, manifest: null });
    expect(await readdir(backupDir)).toEqual([]);
  });
});

describe('full-backup.mts: one backup per date, published atomically', { timeout: 60_000 }, () => {
  it('refuses a second run for the same date naming --replace; --replace replaces it; ARK_ROOT is honoured', async () => {
    const root = await copyFixture();
    await fixStates(root);
    const backupDir = await tempDir('ark-backup-');
    const date = '20260401';
    const dir = join(backupDir, 'daily', `arkalia_${date}`);
    const first = await backup(['--root', root, '--backup-dir', backupDir, '--date', date]);
    expect(first.code, first.stderr).toBe(0);
    const firstManifest = await readFile(join(dir, `backup_manifest_${date}.json`));

    const env = { ARK_ROOT: root, ARK_BACKUP_DIR: backupDir };
    const cwd = await tempDir('ark-elsewhere-');
    const second = await backup(['--date', date], { cwd, env });
    expect(second.code, second.stderr).toBe(1);
    expectNoStackTrace(second);
    expect(second.stderr).toMatch(
      new RegExp(`a backup for ${date} already exists: .*arkalia_${date}\\. Pass --replace`),
    );
    expect((await readFile(join(dir, `backup_manifest_${date}.json`))).equals(firstManifest)).toBe(true);

    const changed = 'decision = "changed after the first backup"\n';
    await writeFile(join(root, 'modules', 'zeroia', 'state', 'zeroia_state.toml'), changed);
    const third = await backup(['--date', date, '--replace'], { cwd, env });
    expect(third.code, third.stderr).toBe(0);
    expect(await readdir(join(backupDir, 'daily'))).toEqual([`arkalia_${date}`]);
    await expectConsistentBackup(dir, date);
    const target = await tempDir('ark-extract-');
    await run('tar', [
      '-xzf',
      join(dir, `arkalia_states_${date}.tar.gz`),
      '-C',
      target,
      'modules/zeroia/state/zeroia_state.toml',
    ]);
    expect(await readFile(join(target, 'modules', 'zeroia', 'state', 'zeroia_state.toml'), 'utf8')).toBe(changed);

    // A --replace run that died between setting the old backup aside and renaming the new one
    // in: the next run puts the old one back instead of deleting it as a stale partial.
    const manifestBefore = await readFile(join(dir, `backup_manifest_${date}.json`));
    const aside = join(backupDir, 'daily', `.arkalia_${date}.partial-999999999-1.replaced`);
    await rename(dir, aside);
    const fourth = await backup(['--date', date], { cwd, env });
    expect(fourth.code, fourth.stderr).toBe(1);
    expect(fourth.stderr).toMatch(/restored arkalia_20260401 from \.arkalia_20260401\.partial-999999999-1\.replaced/);
    expect(fourth.stderr).toMatch(/already exists.*--replace/);
    expect(await readdir(join(backupDir, 'daily'))).toEqual([`arkalia_${date}`]);
    expect((await readFile(join(dir, `backup_manifest_${date}.json`))).equals(manifestBefore)).toBe(true);
  });

  it('SIGKILL while archiving leaves no arkalia_<DATE>; the next run removes the stale partial and succeeds', async () => {
    const root = await copyFixture();
    await writeFile(join(root, 'logs', 'big.bin'), randomBytes(32 * MiB));
    const backupDir = await tempDir('ark-backup-');
    const daily = join(backupDir, 'daily');
    const date = '20260501';
    const { child, done } = start(['--root', root, '--backup-dir', backupDir, '--date', date]);
    const partial = await waitFor(
      async () => {
        const name = (await readdir(daily).catch(() => [] as string[])).find((n) =>
          n.startsWith(`.arkalia_${date}.partial-`),
        );
        if (name === undefined) return undefined;
        const inside = await readdir(join(daily, name)).catch(() => [] as string[]);
        return inside.includes(`arkalia_logs_${date}.tar.gz`) ? name : undefined;
      },
      child,
      'the logs archive was being written',
    );
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    expect(partial).toMatch(new RegExp(`^\\.arkalia_${date}\\.partial-${child.pid}-\\d+$`));
    expect(await readdir(daily)).toEqual([partial]); // the half-written folder is hidden, and nothing else
    expect(existsSync(join(daily, `arkalia_${date}`))).toBe(false);

    await rm(join(root, 'logs', 'big.bin'));
    const next = await backup(['--root', root, '--backup-dir', backupDir, '--date', date]);
    expect(next.code, next.stderr).toBe(3); // the fixture's two invalid states
    expect(next.stderr).toContain(`removed an unfinished backup left by a crashed run: ${partial}`);
    expect(await readdir(daily)).toEqual([`arkalia_${date}`]);
    await expectConsistentBackup(join(daily, `arkalia_${date}`), date);
  });

  it('an unreadable file fails the backup with exit 1, naming it, and leaves neither arkalia_<DATE> nor a partial', async () => {
    const root = await copyFixture();
    const secret = join(root, 'logs', 'audit.log');
    await writeFile(secret, 'root only\n');
    await chmod(secret, 0o000);
    const backupDir = await tempDir('ark-backup-');
    // Root reads mode-000 files, so as root the script runs as nobody (as a backup user would).
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await run('chown', ['-R', '65534:65534', dirname(root), backupDir]);
    const date = '20260601';
    const outcome = await backup(
      ['--root', root, '--backup-dir', backupDir, '--date', date, '--json'],
      asRoot ? { as: { uid: 65534, checkout: await checkoutReadableBy(65534) } } : {},
    );
    expect(outcome.code, outcome.stderr).toBe(1);
    expectNoStackTrace(outcome);
    expect(outcome.stderr).toMatch(/✓ arkalia_states_20260601\.tar\.gz/); // it failed mid-way, after one archive
    expect(outcome.stderr).toMatch(
      new RegExp(
        `cannot write arkalia_logs_${date}\\.tar\\.gz \\(logs\\): EACCES: permission denied, open '${secret}'\\. Nothing was published`,
      ),
    );
    expect(outcome.stderr).not.toMatch(/unexpected error/);
    expect(envelopeOf(outcome, 'full-backup')).toMatchObject({
      ok: false,
      exit_code: 1,
      error: { code: 'ARCHIVE_FAILED', archive: 'logs' },
    });
    expect(await readdir(join(backupDir, 'daily'))).toEqual([]);
  });
});
