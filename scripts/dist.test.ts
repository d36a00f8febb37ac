import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../lib/testing.ts';
import { SAMPLE_ROOT } from '../sample/index.ts';
import { BUILD_INFO, type BuildInfo, buildDist } from './cli/build-dist.ts';
import { digestTree, envelopeOf, expectNoStackTrace, runScript } from './testing.ts';

// dist/: the bundle `npm run build` makes (npm ci runs it) and `ark` runs while it matches the
// sources. Built here into a copy of the install (its own bin/, scripts/, lib/, sample/, the
// repository's node_modules linked), so that a source can be changed without touching ours.

let install: string;
const withoutArk = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ARK_')));
let ark: (args: string[], env?: Record<string, string>) => Promise<{ code: number; stdout: string; stderr: string }>;

beforeAll(async () => {
  install = await tempDir('ark-install-');
  for (const entry of ['bin', 'scripts', 'lib', 'sample', 'package.json', 'package-lock.json'])
    await cp(join(REPO_ROOT, entry), join(install, entry), { recursive: true, preserveTimestamps: true });
  await symlink(join(REPO_ROOT, 'node_modules'), join(install, 'node_modules'));
  await buildDist(install);
  const base = withoutArk();
  ark = (args, env = {}) =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(install, 'bin', 'ark.mjs'), ...args],
        { cwd: install, env: { ...base, ...env }, timeout: 90_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
}, 120_000);

describe('dist/ and ark', { timeout: 120_000 }, () => {
  it('the build: one file per command and for ark, the shared code in chunks, every source recorded', async () => {
    const names = await readdir(join(install, 'dist'));
    for (const entry of ['ark', 'full-backup', 'emergency-restore', 'disaster-recovery', 'schedule', 'verify'])
      expect(names).toContain(`${entry}.mjs`);
    expect(names.some((n) => /^chunk-\w+\.mjs$/.test(n))).toBe(true);
    const info = JSON.parse(await readFile(join(install, 'dist', BUILD_INFO), 'utf8')) as BuildInfo;
    expect(info.version).toBe(1);
    const recorded = Object.keys(info.inputs);
    for (const source of ['scripts/full-backup.mts', 'lib/archive/create-archive.ts', 'package-lock.json'])
      expect(recorded).toContain(source);
    expect(recorded.some((p) => p.startsWith('node_modules/'))).toBe(false);
    const lockfile = info.inputs['package-lock.json']!;
    expect(lockfile.size).toBe((await stat(join(install, 'package-lock.json'))).size);
    expect(lockfile.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('runs the bundle while the sources are as built; a changed source runs the sources (saying so) until rebuilt', async () => {
    const source = join(install, 'scripts', 'cli', 'version.ts');
    const text = await readFile(source, 'utf8');
    const then = 1_700_000_000; // whole seconds: put back exactly
    await utimes(source, then, then);
    await buildDist(install);
    const fresh = await ark(['--version']);
    expect(fresh).toMatchObject({ code: 0, stderr: '' });
    expect(fresh.stdout).toMatch(/^arkalia-dr \d/);

    // A checkout that rewrites a file unchanged moves its mtime, not its content: still the bundle.
    await utimes(source, new Date(), new Date());
    expect(await ark(['--version'])).toEqual(fresh);

    // Same size, its recorded mtime put back: only the content tells, and ark trusts size +
    // mtime (as make and rsync do) — so the bundle runs: the proof that the bundle is what runs.
    const changed = text.replace('`arkalia-dr ${', '`ARKALIA-DR ${');
    expect(changed).not.toBe(text);
    await writeFile(source, changed);
    await utimes(source, then, then);
    expect(await ark(['--version'])).toEqual(fresh);

    // Now its mtime moves too: the content differs from the record, the sources run.
    await utimes(source, new Date(), new Date());
    const stale = await ark(['--version']);
    expect(stale.code).toBe(0);
    expect(stale.stdout).toMatch(/^ARKALIA-DR \d/);
    expect(stale.stderr).toBe(
      `⚠ ark: dist/ is out of date (scripts/cli/version.ts changed): running the TypeScript sources; \`npm run build\` in ${install}/ brings back the fast start\n`,
    );
    await buildDist(install);
    expect(await ark(['--version'])).toMatchObject({ code: 0, stdout: stale.stdout, stderr: '' });
    await writeFile(source, text);
    await buildDist(install);
  });

  it('no dist/ at all: the sources run, without a note; ARK_FROM_SOURCES=1 runs them whatever dist/ is', async () => {
    const bare = await tempDir('ark-bare-');
    for (const entry of ['bin', 'scripts', 'lib', 'sample', 'package.json'])
      await cp(join(install, entry), join(bare, entry), { recursive: true });
    await symlink(join(REPO_ROOT, 'node_modules'), join(bare, 'node_modules'));
    const run = (dir: string, env: Record<string, string> = {}) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          [join(dir, 'bin', 'ark.mjs'), 'bakup'],
          { env: { ...withoutArk(), ...env } }, // the suite may itself run with ARK_FROM_SOURCES=1
          (e, o, r) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout: o, stderr: r }),
        );
      });
    const fromSources = await run(bare);
    expect(fromSources.code).toBe(2);
    expect(fromSources.stderr).toBe('✗ ark: unknown command "bakup" (did you mean backup?); ark --help lists them\n');
    // A corrupt record is not trusted: the sources run, and the note says why.
    await mkdir(join(bare, 'dist'));
    await writeFile(join(bare, 'dist', BUILD_INFO), '{"version": 1, "inputs": ');
    const corrupt = await run(bare);
    expect(corrupt.code).toBe(2);
    expect(corrupt.stderr).toMatch(/^⚠ ark: dist\/ is out of date \(dist\/build-info\.json is unreadable/);
    expect((await run(bare, { ARK_FROM_SOURCES: '1' })).stderr).toBe(fromSources.stderr);
  });

  it('the bundle backs up, verifies, restores one module and writes the schedule as the sources do', async () => {
    const root = await tempDir('ark-dist-root-');
    await cp(SAMPLE_ROOT, root, { recursive: true });
    const backupDir = await tempDir('ark-dist-bk-');
    const common = ['--root', root, '--backup-dir', backupDir];
    const backup = await ark(['backup', '--json', ...common]);
    expect(backup.code, backup.stderr).toBe(3); // the sample's two invalid state files are named (TOML worker)
    expect(backup.stderr).toMatch(/global_context\.toml/);
    expect(envelopeOf(backup, 'full-backup').ok).toBe(false);
    const daily = await ark(['verify', '--daily', ...common]);
    expect(daily.code, daily.stderr).toBe(0);

    const state = join(root, 'modules', 'zeroia', 'state');
    const good = await digestTree(state);
    const victim = Object.keys(good).sort()[0]!;
    await writeFile(join(state, victim), 'broken = {[\n');
    const restore = await ark(['restore', 'zeroia', ...common, '--services', 'none', '--json']);
    expect(restore.code, restore.stderr).toBe(0);
    expect(await digestTree(state)).toEqual(good);
    const report = envelopeOf(restore, 'emergency-restore').result as { changes: { path: string; action: string }[] };
    expect(report.changes.filter((c) => c.action !== 'unchanged')).toHaveLength(1);

    const usage = await ark(['restore', 'no such module', ...common]);
    expect(usage.code).toBe(2);
    expectNoStackTrace(usage);
    const [help, sourceHelp] = await Promise.all([
      ark(['restore', '--help']),
      runScript('emergency-restore', ['--help']),
    ]);
    expect(help.stdout).toBe(sourceHelp.stdout);

    const schedule = await ark(['schedule', ...common, '--user', 'root']);
    expect(schedule.code, schedule.stderr).toBe(0);
    expect(schedule.stdout).toContain(`${process.execPath} ${join(install, 'bin', 'ark.mjs')} full-backup --point`);
    await rm(root, { recursive: true, force: true });
  });
});
