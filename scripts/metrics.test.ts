// --metrics-file on the backup-side scripts, run as an operator (or cron) runs them: one
// textfile shared by every script and run, failures counted, a metrics problem never failing
// a backup, remote-sync taking the backup folder's lock.
import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ourKeyPair } from '../lib/crypto/testing.ts';
import { BACKUP_METRICS as N } from '../lib/metrics/index.ts';
import { parseExposition, promtoolCheck, sampleValue, type Exposition } from '../lib/metrics/testing/exposition.ts';
import { checkoutReadableBy, copyFixture, REPO_ROOT, tempDir } from '../lib/testing.ts';
import { envelopeOf, startScript, type ScriptOptions } from './testing.ts';

const run = promisify(execFile);
const TSX = createRequire(import.meta.url).resolve('tsx');
const INVALID_STATES = ['state/global_context.toml', 'state/reflexia_state.toml'];

/** How to start it (see startScript), and what the environment adds. */
type RunOptions = ScriptOptions & { env?: Record<string, string> };

// scripts/<name> (name with .mts); not killed before the longest test here may take (120 s).
const start = (name: string, args: string[], { env, ...options }: RunOptions = {}) =>
  startScript(join(REPO_ROOT, 'scripts', name), args, env, { timeoutMs: 120_000, ...options });

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  for (const started = Date.now(); !condition(); await new Promise((r) => setTimeout(r, 100))) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
  }
}

const script = (name: string, args: string[], options?: RunOptions) => start(name, args, options).done;

async function fixStates(root: string): Promise<void> {
  for (const path of INVALID_STATES) {
    const text = await readFile(join(root, path), 'utf8');
    await writeFile(join(root, path), text.replace(/^<{7} .*\n[\s\S]*?^={7}\n([\s\S]*?)^>{7} .*\n/gm, '$1'));
  }
}

async function metricsOf(file: string): Promise<Exposition> {
  return parseExposition(await readFile(file, 'utf8'));
}

let root: string;
let recipient: string;
beforeAll(async () => {
  root = await copyFixture();
  await fixStates(root);
  const keys = await tempDir('ark-metrics-keys-');
  recipient = (await ourKeyPair(keys, 'backup')).publicFile;
});

describe('--metrics-file: every backup-side script merges into one textfile', { timeout: 120_000 }, () => {
  it('full-backup, prune, encrypted-backup, remote-sync, realtime-snapshot: their series side by side; a failed run counts and refreshes nothing; a dry run writes nothing', async () => {
    const backupDir = await tempDir('ark-metrics-backup-');
    const offsite = await tempDir('ark-metrics-offsite-');
    const dir = await tempDir('ark-metrics-textfile-');
    const file = join(dir, 'arkalia-dr.prom');
    const common = ['--root', root, '--backup-dir', backupDir];
    const steps: [string, string[], Record<string, string>][] = [
      ['full-backup.mts', [...common, '--date', '20261124', '--no-prune', '--metrics-file', file], {}],
      ['prune.mts', common, { ARK_METRICS_FILE: file }], // from the environment, as the generated schedule sets it
      ['encrypted-backup.mts', [...common, '--recipient', recipient, '--metrics-file', file], {}],
      ['remote-sync.mts', [...common, '--to', offsite, '--metrics-file', file], {}],
      ['realtime-snapshot.mts', [...common, '--metrics-file', file], {}],
    ];
    for (const [name, args, env] of steps) {
      const outcome = await script(name, args, { env });
      expect(outcome.code, `${name}\n${outcome.stderr}`).toBe(0);
      expect(outcome.stderr, name).toMatch(new RegExp(`metrics written: ${file} \\(\\d+ samples\\)`));
    }
    const after = await metricsOf(file);
    const fullSuccess = sampleValue(after, N.lastSuccess.name, { type: 'full' })!;
    expect(Math.abs(fullSuccess * 1000 - Date.now())).toBeLessThan(120_000);
    expect(after.samples.filter((s) => s.name === N.lastSuccess.name)).toHaveLength(1); // type="full" only
    const manifest = JSON.parse(
      await readFile(join(backupDir, 'daily', 'arkalia_20261124', 'backup_manifest_20261124.json'), 'utf8'),
    ) as { archives: { name: string; size_bytes: number }[] };
    for (const a of manifest.archives)
      expect(sampleValue(after, N.size.name, { type: a.name }), a.name).toBe(a.size_bytes);
    expect(sampleValue(after, N.size.name, { type: 'full' })).toBe(
      manifest.archives.reduce((n, a) => n + a.size_bytes, 0),
    );
    const gpg = (await readdir(join(backupDir, 'encrypted'))).filter((n) => n.endsWith('.gpg'));
    const gpgBytes = (
      await Promise.all(gpg.map(async (n) => (await readFile(join(backupDir, 'encrypted', n))).length))
    ).reduce((a, b) => a + b, 0);
    expect(sampleValue(after, N.size.name, { type: 'encrypted' })).toBe(gpgBytes);
    const offsiteFiles = (await readdir(offsite)).filter((n) => n !== 'SHA256SUMS'); // what the remote's SHA256SUMS vouches for
    const offsiteBytes = (
      await Promise.all(offsiteFiles.map(async (n) => (await readFile(join(offsite, n))).length))
    ).reduce((a, b) => a + b, 0);
    expect(offsiteFiles).toEqual(expect.arrayContaining(gpg));
    expect(sampleValue(after, N.size.name, { type: 'offsite' })).toBe(offsiteBytes);
    for (const type of ['full', 'prune', 'encrypted', 'offsite', 'realtime'])
      expect(sampleValue(after, `${N.duration.name}_count`, { type }), type).toBe(1);
    expect(sampleValue(after, N.lastVerified.name)).toBeGreaterThanOrEqual(fullSuccess); // prune, then encrypted-backup verified
    expect(sampleValue(after, N.offsiteLastSync.name)).toBeGreaterThanOrEqual(fullSuccess);
    expect(after.samples.filter((s) => s.name === N.failures.name)).toEqual([]);
    expect(await promtoolCheck(await readFile(file, 'utf8'))).toEqual({ code: 0, output: '' });

    // The same date again: BACKUP_EXISTS, exit 1. Counted; last success and sizes untouched.
    const again = await script('full-backup.mts', [...common, '--date', '20261124', '--metrics-file', file]);
    expect(again.code, again.stderr).toBe(1);
    const badPolicy = join(dir, 'bad.toml');
    await writeFile(badPolicy, '[retention]\ndaily_days = "thirty"\n');
    const invalid = await script('full-backup.mts', [...common, '--policy', badPolicy, '--metrics-file', file]);
    expect(invalid.code, invalid.stderr).toBe(2);
    const failed = await metricsOf(file);
    expect(sampleValue(failed, N.failures.name, { type: 'full', reason: 'backup_exists' })).toBe(1);
    expect(sampleValue(failed, N.failures.name, { type: 'full', reason: 'policy_invalid' })).toBe(1);
    expect(sampleValue(failed, N.lastSuccess.name, { type: 'full' })).toBe(fullSuccess);
    expect(sampleValue(failed, `${N.duration.name}_count`, { type: 'full' })).toBe(1);
    for (const s of after.samples.filter((x) => x.name !== N.failures.name))
      expect(sampleValue(failed, s.name, s.labels), `${s.name}${JSON.stringify(s.labels)}`).toBe(s.value);

    // A dry run records nothing.
    const before = await readFile(file, 'utf8');
    const dry = await script('full-backup.mts', [...common, '--date', '20261125', '--dry-run', '--metrics-file', file]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect((await readdir(dir)).sort()).toEqual(['arkalia-dr.prom', 'arkalia-dr.prom.state.json', 'bad.toml']);
  });

  it('a backup of data that holds invalid state files (as the real Arkalia data does): exit 3, yet its last success is set and the files are counted by their own gauge, not as a failure', async () => {
    const invalidRoot = await copyFixture(); // as shipped: two state files are not valid TOML
    const backupDir = await tempDir('ark-metrics-invalid-');
    const file = join(await tempDir('ark-metrics-invalid-textfile-'), 'arkalia-dr.prom');
    const outcome = await script('full-backup.mts', [
      '--root',
      invalidRoot,
      '--backup-dir',
      backupDir,
      '--no-prune',
      '--metrics-file',
      file,
    ]);
    expect(outcome.code, outcome.stderr).toBe(3);
    const metrics = await metricsOf(file);
    expect(Math.abs(sampleValue(metrics, N.lastSuccess.name, { type: 'full' })! * 1000 - Date.now())).toBeLessThan(
      120_000,
    );
    expect(sampleValue(metrics, N.invalidStates.name, { source: 'backup' })).toBe(2);
    expect(metrics.samples.filter((s) => s.name === N.failures.name)).toEqual([]);
    expect(await promtoolCheck(await readFile(file, 'utf8'))).toEqual({ code: 0, output: '' });
  });

  it('a metrics file that cannot be written is a warning: the backup succeeds with its exit code unchanged (also under --json)', async () => {
    const own = await copyFixture();
    await fixStates(own);
    const backupDir = await tempDir('ark-metrics-ro-backup-');
    const parent = await tempDir('ark-metrics-ro-');
    const readOnly = join(parent, 'textfile');
    await mkdir(readOnly);
    await chmod(parent, 0o755);
    await chmod(readOnly, 0o555);
    // Root writes into read-only folders: as root, the backup runs as nobody (as a backup user would).
    const asRoot = process.getuid?.() === 0;
    if (asRoot) await run('chown', ['-R', '65534:65534', dirname(own), backupDir]);
    const asNobody = asRoot ? { as: { uid: 65534, checkout: await checkoutReadableBy(65534) } } : {};
    const outcome = await script(
      'full-backup.mts',
      [
        '--root',
        own,
        '--backup-dir',
        backupDir,
        '--date',
        '20261124',
        '--json',
        '--metrics-file',
        join(readOnly, 'arkalia-dr.prom'),
      ],
      asNobody,
    );
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr).toMatch(
      /⚠ metrics not written to .*textfile\/arkalia-dr\.prom: cannot use the lock file .*EACCES.* \(the run itself is not affected\)/,
    );
    expect(outcome.stderr).toMatch(/✅ backup complete/);
    expect(envelopeOf(outcome)).toMatchObject({ ok: true, exit_code: 0 });
    expect(await readdir(join(backupDir, 'daily'))).toEqual(['arkalia_20261124']);
    expect(await readdir(readOnly)).toEqual([]);

    // Same for a failed run: its own exit code, not the metrics problem's.
    const again = await script(
      'full-backup.mts',
      [
        '--root',
        own,
        '--backup-dir',
        backupDir,
        '--date',
        '20261124',
        '--metrics-file',
        join(parent, 'missing', 'm.prom'),
      ],
      asNobody,
    );
    expect(again.code, again.stderr).toBe(1);
    expect(again.stderr).toMatch(/⚠ metrics not written to .*missing\/m\.prom: the folder .*missing does not exist/);
    expect(again.stderr).toMatch(/✗ a backup for 20261124 already exists/);
  });
});

describe('remote-sync takes the backup folder lock', { timeout: 60_000 }, () => {
  it('waits for (or, with --lock-timeout 0, refuses) a run holding it, and counts the refusal; a dry run needs no lock', async () => {
    const backupDir = await tempDir('ark-metrics-lock-');
    const offsite = await tempDir('ark-metrics-lock-offsite-');
    const file = join(await tempDir('ark-metrics-lock-textfile-'), 'm.prom');
    await mkdir(join(backupDir, 'encrypted'));
    await writeFile(join(backupDir, 'encrypted', 'SHA256SUMS'), '');
    const holder = spawn(
      process.execPath,
      [
        '--import',
        TSX,
        join(REPO_ROOT, 'lib', 'lock', 'testing', 'hold-lock.ts'),
        backupDir,
        'stdin',
        join(backupDir, 'hold.log'),
        '1000',
        'test',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    try {
      const common = ['--root', backupDir, '--backup-dir', backupDir, '--to', offsite, '--metrics-file', file];
      const refused = await script('remote-sync.mts', [...common, '--lock-timeout', '0', '--json']);
      expect(refused.code, refused.stderr).toBe(4);
      expect(envelopeOf(refused)).toMatchObject({
        ok: false,
        error: { code: 'LOCK_HELD', holder: { pid: holder.pid, command: 'hold-lock test' } },
      });
      expect(sampleValue(await metricsOf(file), N.failures.name, { type: 'offsite', reason: 'lock_held' })).toBe(1);
      const dry = await script('remote-sync.mts', [...common, '--lock-timeout', '0', '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      const waiting = start('remote-sync.mts', [...common, '--lock-timeout', 'PT30S']);
      await until(
        () => /in use by .*hold-lock test.*; waiting up to 30 s/.test(waiting.stderr()),
        'remote-sync to wait for the lock',
      );
      holder.stdin!.end();
      const done = await waiting.done;
      expect(done.code, done.stderr).toBe(0);
      expect(done.stderr).toMatch(/backup folder lock taken after/);
      const metrics = await metricsOf(file);
      expect(sampleValue(metrics, `${N.duration.name}_count`, { type: 'offsite' })).toBe(1);
      expect(sampleValue(metrics, N.offsiteLastSync.name)).toBeGreaterThan(0);
    } finally {
      holder.kill();
    }
  });
});

describe('realtime-snapshot --watch --metrics-file', { timeout: 60_000 }, () => {
  it('counts the state files invalid while watching in their own gauge (not as failures), written at the stop at the latest', async () => {
    const own = await copyFixture({ withEnv: false }); // two states have conflict markers
    const backupDir = await tempDir('ark-metrics-watch-');
    const file = join(await tempDir('ark-metrics-watch-textfile-'), 'm.prom');
    const watch = start('realtime-snapshot.mts', [
      '--root',
      own,
      '--backup-dir',
      backupDir,
      '--watch',
      '--metrics-file',
      file,
    ]);
    // The first pass reports both invalid files; then stop it as systemd does.
    await until(
      () =>
        INVALID_STATES.every((p) => watch.stderr().includes(`invalid TOML: ${p}`)) &&
        /watching \d+ folder/.test(watch.stderr()),
      'the first pass',
    );
    watch.child.kill('SIGTERM');
    const outcome = await watch.done;
    expect(outcome.code, outcome.stderr).toBe(0);
    const metrics = await metricsOf(file);
    expect(sampleValue(metrics, N.invalidStates.name, { source: 'realtime' })).toBe(2);
    expect(sampleValue(metrics, N.failures.name, { type: 'realtime', reason: 'invalid_state' })).toBeUndefined();
    expect(metrics.samples.filter((s) => s.name.startsWith(N.duration.name))).toEqual([]); // no runs to time
  });
});
