import { cp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, it } from 'vitest';
import { sha256Buffer } from '../lib/checksum/index.ts';
import { runFullBackup } from '../lib/pipeline/backup.ts';
import { resolvePolicy } from '../lib/policy/index.ts';
import { copyFixture, REPO_ROOT, tempDir } from '../lib/testing.ts';
import {
  digestTree as digest,
  envelopeOf,
  expectNoStackTrace as noStackTrace,
  resultOf,
  runScript,
  startScript as start,
} from './testing.ts';
import { SAMPLE_ROOT } from '../sample/index.ts';

// scripts/disaster-recovery.mts as an operator runs it (a subprocess): exit codes, --json,
// the files it leaves — and killed at exact points of its swap (ARK_TEST_PAUSE_AT, test-only)
// to prove that the next run puts the live tree back exactly as it was.

const DR = join(REPO_ROOT, 'scripts/disaster-recovery.mts');
const ER = join(REPO_ROOT, 'scripts/emergency-restore.mts');
const STATE = 'modules/zeroia/state/zeroia_state.toml';
const EXTRA = 'modules/zeroia/state/zz_stale.toml';
const CORRUPT = '<<<<<<< HEAD\nlast_decision = "reduce"\n=======\nlast_decision = "monitor"\n>>>>>>> dev-migration\n';
const policy = resolvePolicy({}, 'built-in');

const run = (script: string, args: string[], env?: Record<string, string>) => runScript(script, args, env);

/** Anything a restore leaves in or beside the root: journal, workspaces, sidecars. */
async function leftovers(root: string): Promise<string[]> {
  const inside = (await readdir(root, { recursive: true })).filter((n) =>
    n.split('/').some((p) => p.startsWith('.ark-restore')),
  );
  const beside = (await readdir(dirname(root))).filter((n) => n !== 'arkalia-luna-pro');
  return [...inside, ...beside];
}

let pristine: string;
let twoBackups: string;
let original: Record<string, string>;
beforeAll(async () => {
  const root = await copyFixture();
  original = await digest(root);
  const backup = (backupDir: string, date: string) =>
    runFullBackup({ root, backupDir, date, policy, sink: () => {}, gitCommit: async () => null, host: 'test' });
  pristine = await tempDir('ark-bk-');
  await backup(pristine, '20261110');
  twoBackups = await tempDir('ark-bk-');
  await cp(pristine, twoBackups, { recursive: true });
  await backup(twoBackups, '20261111');
});

/** A damaged root (state folders lost, zeroia's state corrupted, a stale file) and a copy of the good backup. */
async function disaster(options: { loseStateFolders?: boolean; backups?: string } = {}) {
  const root = await copyFixture();
  if (options.loseStateFolders ?? true)
    for (const dir of ['modules/reflexia/state', 'modules/cognitive_reactor/state', 'state', 'global_state'])
      await rm(join(root, dir), { recursive: true });
  await writeFile(join(root, STATE), CORRUPT);
  await writeFile(join(root, EXTRA), 'stale = true\n');
  const backupDir = await tempDir('ark-bk-');
  await cp(options.backups ?? pristine, backupDir, { recursive: true });
  return { root, backupDir, args: ['--root', root, '--backup-dir', backupDir, '--services', 'none'] };
}

// Each test runs two or three tsx subprocesses; on two busy cores that can take a while.
describe.concurrent('disaster-recovery.mts', { timeout: 120_000 }, () => {
  it('restores the whole tree byte for byte after its state folders are lost (--services none), and says what it did', async ({
    expect,
  }) => {
    const root = await copyFixture();
    for (const dir of [
      'modules/zeroia/state',
      'modules/reflexia/state',
      'modules/cognitive_reactor/state',
      'state',
      'global_state',
    ])
      await rm(join(root, dir), { recursive: true });
    const backupDir = await tempDir('ark-bk-');
    await cp(pristine, backupDir, { recursive: true });
    const r = await run(DR, ['--root', root, '--backup-dir', backupDir, '--services', 'none', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(await digest(root)).toEqual(original);
    expect(await leftovers(root)).toEqual([]);
    expect(envelopeOf(r, 'disaster-recovery')).toMatchObject({ ok: true, policy: 'built-in', error: null });
    const result = resultOf(r);
    expect(result).toMatchObject({
      mode: 'live',
      dry_run: false,
      rejected: [],
      backup: { date: '20261110', recovery_point: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
      preserved_at: null,
    });
    expect(result.known_invalid.map((k: { path: string }) => k.path).sort()).toEqual([
      'state/global_context.toml',
      'state/reflexia_state.toml',
    ]);
    expect(r.stderr).toContain(
      'restored as they were, already invalid TOML when backed up: state/global_context.toml, state/reflexia_state.toml',
    );
    expect(r.stderr).toMatch(/recovery point: \d{4}-.*\(arkalia_20261110\)/);
  });

  it('falls back past a corrupted newest backup, naming it and why; the dry run before it changed nothing', async ({
    expect,
  }) => {
    const { root, backupDir, args } = await disaster({ backups: twoBackups });
    const archive = join(backupDir, 'daily/arkalia_20261111/arkalia_states_20261111.tar.gz');
    const bytes = await readFile(archive);
    bytes[200]! ^= 0x40;
    await writeFile(archive, bytes);

    const before = { root: await digest(root), backups: await digest(backupDir) };
    const tmp = await tempDir('ark-tmp-');
    const dry = await run(DR, [...args, '--dry-run', '-v', '--json'], { TMPDIR: tmp }); // -v: every file
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/\[dry run\] plan: 1 file\(s\) to replace, \d+ to create, 1 to remove, \d+ unchanged/);
    expect(dry.stderr).toMatch(/✗ backup arkalia_20261111 rejected \(CHECKSUM_MISMATCH\)/);
    expect(dry.stderr).toContain(
      `[dry run] replace ${STATE} (current sha256 ${sha256Buffer(CORRUPT)}, backup sha256 ${original[STATE]})`,
    );
    expect(dry.stderr).toContain(`[dry run] remove ${EXTRA}`);
    expect(resultOf(dry)).toMatchObject({
      dry_run: true,
      backup: { date: '20261110' },
      rejected: [{ backup: 'arkalia_20261111', code: 'CHECKSUM_MISMATCH' }],
    });
    expect(await digest(root)).toEqual(before.root);
    expect(await digest(backupDir)).toEqual(before.backups);
    expect(await leftovers(root)).toEqual([]);
    expect((await readdir(tmp)).filter((n) => n.startsWith('ark-'))).toEqual([]); // its staging was removed

    const r = await run(DR, [...args, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const result = resultOf(r);
    expect(result).toMatchObject({
      backup: { date: '20261110' },
      rejected: [
        {
          backup: 'arkalia_20261111',
          date: '20261111',
          code: 'CHECKSUM_MISMATCH',
          reason: expect.stringContaining('arkalia_states_20261111.tar.gz: sha256'),
        },
      ],
    });
    expect(r.stderr).toContain('⚠ newer backup(s) rejected: arkalia_20261111 (CHECKSUM_MISMATCH)');
    expect(await digest(root)).toEqual(original);
    expect(await readFile(join(result.preserved_at, STATE), 'utf8')).toBe(CORRUPT);
    expect(await readFile(join(result.preserved_at, EXTRA), 'utf8')).toBe('stale = true\n');
  });

  it('--test-mode restores into a sandbox, reports the diff with sha256s, and leaves the live tree alone', async ({
    expect,
  }) => {
    const { root, args } = await disaster({ loseStateFolders: false });
    const before = await digest(root);
    const sandbox = join(await tempDir('ark-sandbox-'), 'weekly');
    const r = await run(DR, [...args, '--test-mode', '--sandbox', sandbox, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(await digest(root)).toEqual(before);
    const { diff, mode, sandbox: where } = resultOf(r);
    expect({ mode, where }).toEqual({ mode: 'test', where: { dir: sandbox, kept: true } });
    expect(diff.changed).toEqual([
      { path: STATE, live_sha256: sha256Buffer(CORRUPT), restored_sha256: original[STATE] },
    ]);
    expect(diff.removed).toEqual([{ path: EXTRA, sha256: sha256Buffer('stale = true\n') }]);
    expect(diff.added).toEqual([]);
    expect(r.stderr).toMatch(
      /✅ test restore of arkalia_20261110 succeeded into .*weekly: vs the live tree 0 added, 1 removed, 1 changed, \d+ unchanged/,
    );
    expect((await readFile(join(sandbox, STATE))).equals(await readFile(join(SAMPLE_ROOT, STATE)))).toBe(true);
  });

  it('refuses bad command lines (exit 2, no stack trace, nothing changed)', async ({ expect }) => {
    const { root, args } = await disaster();
    const before = await digest(root);
    const cases: [string[], RegExp][] = [
      [
        ['2026-11-10'],
        /backup date must be a calendar date as YYYYMMDD, or a recovery point as YYYYMMDD_HHMM, got "2026-11-10"/,
      ],
      [['20261110', 'extra'], /unexpected arguments: extra/],
      [['--force'], /Unknown option '--force'/],
      [['--sandbox', '/tmp/x'], /--sandbox is only for --test-mode/],
      [['--max-bytes', 'lots'], /--max-bytes must be a size such as 512M or 4G, got "lots"/],
      [['--resume', '--dry-run'], /--resume and --dry-run cannot be combined/],
    ];
    const runs = await Promise.all(cases.map(([extra]) => run(DR, [...args, ...extra, '--json'])));
    cases.forEach(([, message], i) => {
      const r = runs[i]!;
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      noStackTrace(r);
      expect(envelopeOf(r, 'disaster-recovery')).toMatchObject({ ok: false, exit_code: 2, error: { code: 'USAGE' } });
    });
    // Without --root (or ARK_ROOT) a restore is refused, in an empty current folder too:
    // nothing is planned into it, let alone written.
    const empty = await tempDir('ark-cwd-');
    const { backupDir } = await disaster({ loseStateFolders: false });
    for (const [script, extra] of [
      [DR, []],
      [DR, ['--dry-run']],
      [ER, ['zeroia']],
    ] as const) {
      const r = await runScript(
        script,
        [...extra, '--backup-dir', backupDir, '--services', 'none'],
        {},
        { cwd: empty },
      );
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/writes into the Arkalia root: name it with --root DIR \(or env ARK_ROOT\)/);
      noStackTrace(r);
    }
    expect(await readdir(empty)).toEqual([]);
    const podman = await run(DR, [...args, '--services', 'podman']);
    expect(podman.code).toBe(2);
    expect(podman.stderr).toMatch(/--services must be "compose", "docker" or "none", got "podman"/);
    expect(await digest(root)).toEqual(before);
  });
});

describe.concurrent('a restore killed mid-way leaves the live tree as it was', { timeout: 120_000 }, () => {
  it('killed before the swap (staged): the tree is untouched at once; the next run clears its staging', async ({
    expect,
  }) => {
    const { root, args } = await disaster();
    const before = await digest(root);
    const p = start(DR, args, { ARK_TEST_PAUSE_AT: 'staged' });
    await p.paused;
    p.child.kill('SIGKILL');
    await p.done;
    expect(await digest(root)).toEqual(before);
    expect((await readdir(root, { recursive: true })).filter((n) => n.includes('.ark-restore'))).toEqual([]);
    const resume = await run(DR, [...args, '--resume', '--json']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(resultOf(resume).resume).toMatchObject({
      settled: null,
      removed: [expect.stringContaining('.ark-restore-arkalia-luna-pro-')],
    });
    expect(await leftovers(root)).toEqual([]);
  });

  it('SIGKILL mid-swap, then --resume: rolled back to exactly the previous tree', async ({ expect }) => {
    const { root, backupDir, args } = await disaster();
    const before = await digest(root);
    const p = start(DR, args, { ARK_TEST_PAUSE_AT: 'swap:3' });
    await p.paused;
    p.child.kill('SIGKILL');
    await p.done;
    expect(await digest(root)).not.toEqual(before); // really half swapped
    const resume = await run(DR, [...args, '--resume', '--json']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stderr).toMatch(
      /↺ an interrupted restore \(pid \d+, .*\) was rolled back: \d+ file\(s\) put back exactly as they were/,
    );
    expect(await digest(root)).toEqual(before);
    expect(await leftovers(root)).toEqual([]);
    expect(await stat(join(backupDir, 'preserved')).catch(() => null)).toBeNull();
  });

  it('SIGKILL mid-swap, then any other restore: it rolls back first, then does its own work', async ({ expect }) => {
    const { root, args } = await disaster();
    const before = await digest(root);
    const p = start(DR, args, { ARK_TEST_PAUSE_AT: 'swap:1' });
    await p.paused;
    p.child.kill('SIGKILL');
    await p.done;
    const er = await run(ER, ['zeroia', ...args, '--json']);
    expect(er.code, er.stderr).toBe(0);
    expect(resultOf(er).settled).toMatchObject({ outcome: 'rolled-back' });
    const expected: Record<string, string> = { ...before, [STATE]: original[STATE]! };
    delete expected[EXTRA];
    expect(await digest(root)).toEqual(expected); // the interrupted DR undone; only zeroia's state restored
  });

  it('SIGTERM mid-swap: rolled back before exiting (exit 1), nothing left behind', async ({ expect }) => {
    const { root, args } = await disaster();
    const before = await digest(root);
    const p = start(DR, [...args, '--json'], { ARK_TEST_PAUSE_AT: 'swap:2' });
    await p.paused;
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.code, r.stderr).toBe(1);
    expect(envelopeOf(r).error).toMatchObject({
      code: 'RESTORE_INTERRUPTED',
      message: expect.stringContaining('received SIGTERM'),
    });
    expect(await digest(root)).toEqual(before);
    expect(await leftovers(root)).toEqual([]);
  });

  it('SIGKILL after the commit: the restore stands, and the next run finishes preserving the previous files', async ({
    expect,
  }) => {
    const { root, backupDir, args } = await disaster();
    const p = start(DR, args, { ARK_TEST_PAUSE_AT: 'committed' });
    await p.paused;
    p.child.kill('SIGKILL');
    await p.done;
    const resume = await run(DR, [...args, '--resume', '--json']);
    expect(resume.code, resume.stderr).toBe(0);
    const settled = resultOf(resume).resume.settled;
    expect(settled).toMatchObject({
      outcome: 'completed',
      preserved_at: expect.stringContaining(join(backupDir, 'preserved', 'system_')),
    });
    expect(await digest(root)).toEqual(original);
    expect(await readFile(join(settled.preserved_at, STATE), 'utf8')).toBe(CORRUPT);
    expect(await leftovers(root)).toEqual([]);
  });
});
