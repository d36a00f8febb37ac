// scripts/prune.mts (and full-backup.mts's lock and prune), run as an operator runs them:
// subprocesses, exit codes, stdout/stderr, and what is left in the backup folder.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentProcess, formatLockRecord, lockPath } from '../lib/lock/index.ts';
import { daysAgo, makeBackup, snapshotTree } from '../lib/retention/testing.ts';
import { copyFixture, REPO_ROOT, tempDir } from '../lib/testing.ts';
import { envelopeOf, resultOf, startScript, type ScriptOptions, type ScriptRun } from './testing.ts';

const PRUNE = join(REPO_ROOT, 'scripts', 'prune.mts');
const FULL_BACKUP = join(REPO_ROOT, 'scripts', 'full-backup.mts');

// Not killed before the longest test here may take (120 s).
const start = (script: string, args: string[], options: ScriptOptions = {}) =>
  startScript(script, args, {}, { timeoutMs: 120_000, ...options });
const prune = (args: string[], options?: ScriptOptions) => start(PRUNE, args, options).done;

function expectNoStackTrace(outcome: ScriptRun): void {
  expect(outcome.stderr).not.toMatch(/^\s+at /m);
  expect(outcome.stdout).not.toMatch(/^\s+at /m);
}

const daily = async (backupDir: string) => (await readdir(join(backupDir, 'daily'))).sort();

/** Poll until `probe` holds; fail if `child` ends first. */
async function waitFor(probe: () => Promise<boolean>, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the process ended before ${what}`);
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A fixture root whose logs archive takes a moment to write, so that a test sees the backup mid-way. */
async function slowRoot(): Promise<string> {
  const root = await copyFixture();
  await writeFile(join(root, 'logs', 'big.bin'), randomBytes(8 * 1024 * 1024));
  return root;
}

const writing = (backupDir: string) => async () =>
  (await readdir(join(backupDir, 'daily')).catch(() => [] as string[])).some((n) => n.includes('.partial-'));

describe('prune.mts: command line', { timeout: 60_000 }, () => {
  it('--help prints the rules and every flag on stdout, exit 0, also through zx', async () => {
    for (const viaZx of [false, true]) {
      const outcome = await prune(['--help'], { viaZx });
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(outcome.stderr).toBe('');
      expect(outcome.stdout).toMatch(/^Usage: prune\.mts/);
      for (const text of [
        '--dry-run',
        '--lock-timeout T',
        '--root DIR',
        '--backup-dir DIR',
        '--policy FILE',
        '--json',
        'daily_days',
        'keep_weekly',
        'ISO weeks',
        'never touched',
        '.arkalia-dr.lock',
      ]) {
        expect(outcome.stdout).toContain(text);
      }
    }
  });

  it('rejects bad input with exit 2 (a missing backup folder: exit 1), a message naming the problem and no stack trace', async () => {
    const work = await tempDir('ark-prune-bad-');
    const backupDir = await tempDir('ark-prune-bd-');
    await makeBackup(backupDir, daysAgo(100));
    const before = await snapshotTree(backupDir);
    await writeFile(join(work, 'negative.toml'), '[retention]\nkeep_weekly = -1\n');
    await writeFile(join(work, 'typo.toml'), '[retention]\ndaily_dayz = 3\n');
    const common = ['--root', work, '--backup-dir', backupDir];
    const cases: { args: string[]; code: number; message: RegExp }[] = [
      { args: [...common, '--json', '--bogus'], code: 2, message: /Unknown option '--bogus'/ },
      { args: [...common, 'extra'], code: 2, message: /Unexpected argument 'extra'/ },
      { args: [...common, '--lock-timeout', 'soon'], code: 2, message: /--lock-timeout must be seconds .* got "soon"/ },
      {
        args: [...common, '--json', '--policy', join(work, 'negative.toml')],
        code: 2,
        message: /negative\.toml: invalid policy:\n\s+- retention\.keep_weekly: /,
      },
      {
        args: [...common, '--policy', join(work, 'typo.toml')],
        code: 2,
        message: /typo\.toml: invalid policy:[\s\S]*daily_dayz/,
      },
      {
        args: ['--root', work, '--backup-dir', join(work, 'no-such-dir'), '--json'],
        code: 1,
        message: /backup folder .*no-such-dir does not exist or is not a folder \(check --backup-dir/,
      },
    ];
    const outcomes = await Promise.all(cases.map((c) => prune(c.args)));
    outcomes.forEach((outcome, i) => {
      const { args, code, message } = cases[i]!;
      const label = args.join(' ');
      expect(outcome.code, `${label}\n${outcome.stderr}`).toBe(code);
      expect(outcome.stderr, label).toMatch(message);
      expect(outcome.stderr, label).toMatch(/^✗ /m);
      expectNoStackTrace(outcome);
      if (args.includes('--json'))
        expect(envelopeOf(outcome, 'prune'), label).toMatchObject({
          ok: false,
          exit_code: code,
          error: { message: expect.stringMatching(message) },
        });
      else expect(outcome.stdout, label).toBe('');
    });
    expect(await snapshotTree(backupDir)).toEqual(before);
  });
});

describe('prune.mts: what it deletes', { timeout: 60_000 }, () => {
  it('corrupt newest backup: the dry run changes nothing; the real run keeps the older good one; both exit 3 naming it', async () => {
    const backupDir = await tempDir('ark-prune-');
    const [corrupt, good, older] = [daysAgo(40), daysAgo(50), daysAgo(60)];
    await makeBackup(backupDir, corrupt, 'mismatch');
    await makeBackup(backupDir, good);
    await makeBackup(backupDir, older);
    await mkdir(join(backupDir, 'daily', `.arkalia_${daysAgo(1)}.partial-1-2`)); // full-backup's, not ours
    const before = await snapshotTree(backupDir);

    const dry = await prune(['--backup-dir', backupDir, '--root', backupDir, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(3);
    expectNoStackTrace(dry);
    expect(await snapshotTree(backupDir)).toEqual(before);
    const planned = envelopeOf(dry, 'prune');
    expect(planned).toMatchObject({ ok: false, exit_code: 3, error: null });
    expect(planned.result).toMatchObject({
      dry_run: true,
      deleted: [corrupt, older],
      newest_verified: good,
      corrupt: [{ date: corrupt, problem: `arkalia_logs_${corrupt}.tar.gz: sha256 mismatch` }],
      hashed: 2,
    });
    expect(dry.stderr).toContain(`[dry run] would delete ${join(backupDir, 'daily', `arkalia_${older}`)}`);
    expect(dry.stderr).toMatch(/would delete 2 backup\(s\), keep 1; nothing was changed; 1 backup\(s\) do NOT verify/);

    const real = await prune(['--backup-dir', backupDir, '--root', backupDir]);
    expect(real.code, real.stderr).toBe(3);
    expect(real.stdout).toBe('');
    expect(real.stderr).toContain(
      `✗ ${join(backupDir, 'daily', `arkalia_${corrupt}`)} does not verify: arkalia_logs_${corrupt}.tar.gz: sha256 mismatch`,
    );
    expect(real.stderr).toContain(`  keep   arkalia_${good}: newest backup that verifies`);
    expect(real.stderr).toContain(`  delete arkalia_${corrupt} (DOES NOT VERIFY): age 40 day(s) > daily_days 30`);
    expect(real.stderr).toMatch(
      new RegExp(`deleted 2 backup\\(s\\), kept 1; 1 backup\\(s\\) do NOT verify:\\n  - arkalia_${corrupt}: `),
    );
    expect(await daily(backupDir)).toEqual([`.arkalia_${daysAgo(1)}.partial-1-2`, `arkalia_${good}`]);

    const again = await prune(['--backup-dir', backupDir, '--root', backupDir, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(resultOf(again, 'prune')).toMatchObject({ deleted: [], newest_verified: good, corrupt: [] });
  });

  it("honours the policy's GFS counts (keep_monthly) from --policy", async () => {
    const backupDir = await tempDir('ark-prune-');
    const work = await tempDir('ark-prune-policy-');
    await writeFile(join(work, 'gfs.toml'), '[retention]\ndaily_days = 7\nkeep_monthly = 2\n');
    const dates = [3, 20, 45, 80, 120].map((d) => daysAgo(d));
    for (const date of dates) await makeBackup(backupDir, date);
    const outcome = await prune([
      '--backup-dir',
      backupDir,
      '--root',
      work,
      '--policy',
      join(work, 'gfs.toml'),
      '--json',
    ]);
    expect(outcome.code, outcome.stderr).toBe(0);
    const result = resultOf(outcome, 'prune') as {
      backups: { date: string; action: string; reasons: string[] }[];
      retention: unknown;
    };
    expect(result.retention).toEqual({ daily_days: 7, keep_monthly: 2 });
    const keptByMonth = result.backups.filter((b) => b.reasons.some((r) => r.startsWith('monthly'))).map((b) => b.date);
    expect(keptByMonth).toHaveLength(2);
    expect(keptByMonth[0]).toBe(dates[0]);
    expect((await daily(backupDir)).length).toBe(2);
  });
});

describe('full-backup.mts and prune.mts share the backup folder lock', { timeout: 120_000 }, () => {
  it('a prune during a backup fails at once with --lock-timeout 0 naming it, or waits and runs after it; the backup prunes itself', async () => {
    const root = await slowRoot();
    const backupDir = await tempDir('ark-lockscript-');
    const old = daysAgo(100);
    await makeBackup(backupDir, old);
    const backup = start(FULL_BACKUP, ['--root', root, '--backup-dir', backupDir, '--json']);
    await waitFor(writing(backupDir), backup.child, 'the backup started writing');
    backup.child.kill('SIGSTOP'); // frozen mid-backup, alive, holding the lock: no race with its speed

    const refused = await prune(['--backup-dir', backupDir, '--root', root, '--lock-timeout', '0', '--json']);
    expect(refused.code, refused.stderr).toBe(4); // locked: its own exit code
    expectNoStackTrace(refused);
    const holder = new RegExp(
      `is in use by another arkalia-dr run: pid ${backup.child.pid} on host ${hostname()} since \\S+ \\(\\d+ s ago\\), command: full-backup\\.mts --root ${root} --backup-dir ${backupDir} --json; not waiting \\(--lock-timeout 0\\)\\. Wait for it to finish`,
    );
    expect(refused.stderr).toMatch(holder);
    expect(envelopeOf(refused, 'prune')).toMatchObject({
      ok: false,
      exit_code: 4,
      error: { code: 'LOCK_HELD', holder: { pid: backup.child.pid, host: hostname() } },
    });

    const waiting = start(PRUNE, ['--backup-dir', backupDir, '--root', root, '--lock-timeout', '60', '--json']);
    await waitFor(async () => waiting.stderr().includes('⏳'), waiting.child, 'the prune waits for the lock');
    backup.child.kill('SIGCONT');
    const [backedUp, waited] = await Promise.all([backup.done, waiting.done]);
    expect(backedUp.code, backedUp.stderr).toBe(3); // the fixture's two invalid states
    const backupResult = resultOf(backedUp, 'full-backup') as {
      date: string;
      prune: { deleted: string[]; kept: string[] };
    };
    expect(backupResult.prune).toMatchObject({ deleted: [old], kept: [backupResult.date], hashed: 0 });
    expect(backedUp.stderr).toMatch(/🧹 pruned: deleted 1 backup\(s\)/);

    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stderr).toMatch(
      new RegExp(
        `⏳ ${backupDir} is in use by pid ${backup.child.pid} .*command: full-backup\\.mts.*; waiting up to 60 s`,
      ),
    );
    expect(waited.stderr).toMatch(/✓ backup folder lock taken after \d+\.\d s/);
    const pruned = resultOf(waited, 'prune') as {
      deleted: string[];
      backups: { date: string }[];
      lock_waited_ms: number;
    };
    expect(pruned.deleted).toEqual([]);
    expect(pruned.backups.map((b) => b.date)).toEqual([backupResult.date]); // it ran after the backup had finished
    expect(pruned.lock_waited_ms).toBeGreaterThan(0);
    expect(await readdir(backupDir)).toEqual(['.arkalia-dr-verified.json', 'daily']); // both released the lock
  });

  it('a SIGKILLed backup leaves its lock; the next prune removes it as stale and leaves the partial to full-backup', async () => {
    const root = await slowRoot();
    const backupDir = await tempDir('ark-lockscript-');
    await makeBackup(backupDir, daysAgo(2));
    const backup = start(FULL_BACKUP, ['--root', root, '--backup-dir', backupDir]);
    await waitFor(writing(backupDir), backup.child, 'the backup started writing');
    backup.child.kill('SIGKILL');
    expect((await backup.done).signal).toBe('SIGKILL');
    expect(await readdir(backupDir)).toContain('.arkalia-dr.lock');
    const partial = (await daily(backupDir)).find((n) => n.includes('.partial-'))!;

    const outcome = await prune(['--backup-dir', backupDir, '--root', root, '--lock-timeout', '0']);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr).toMatch(
      new RegExp(
        `⚠ removed a stale lock \\(process ${backup.child.pid} no longer exists\\): pid ${backup.child.pid} on host .*command: full-backup\\.mts`,
      ),
    );
    expect(await daily(backupDir)).toEqual([partial, `arkalia_${daysAgo(2)}`]);
    expect(await readdir(backupDir)).toEqual(['daily']);
  });

  it('full-backup --no-prune keeps expired backups; a lock held from another host stops it before it writes anything', async () => {
    const root = await copyFixture();
    const backupDir = await tempDir('ark-lockscript-');
    const [old1, old2] = [daysAgo(100), daysAgo(200)];
    await makeBackup(backupDir, old1);
    await makeBackup(backupDir, old2);
    const date = daysAgo(0);

    const kept = await start(FULL_BACKUP, [
      '--root',
      root,
      '--backup-dir',
      backupDir,
      '--date',
      date,
      '--no-prune',
      '--json',
    ]).done;
    expect(kept.code, kept.stderr).toBe(3);
    expect(resultOf(kept, 'full-backup')).toMatchObject({ prune: null });
    expect(await daily(backupDir)).toEqual([`arkalia_${old2}`, `arkalia_${old1}`, `arkalia_${date}`].sort());

    const far = {
      ...currentProcess(),
      host: 'backup-host-2',
      token: 'far',
      since: '2026-11-26T03:00:00.000Z',
      command: 'prune.mts',
    };
    await writeFile(lockPath(backupDir), formatLockRecord(far));
    const blocked = await start(FULL_BACKUP, [
      '--root',
      root,
      '--backup-dir',
      backupDir,
      '--date',
      date,
      '--replace',
      '--lock-timeout',
      '0',
    ]).done;
    expect(blocked.code, blocked.stderr).toBe(4); // locked
    expectNoStackTrace(blocked);
    expect(blocked.stderr).toMatch(
      /is in use by another arkalia-dr run: pid \d+ on host backup-host-2 since 2026-11-26T03:00:00\.000Z .*command: prune\.mts; not waiting \(--lock-timeout 0\)\. It runs on another host \(backup-host-2\), so this lock is never removed automatically: if no arkalia-dr run is active there, remove .*\.arkalia-dr\.lock by hand\./,
    );
    expect(await daily(backupDir)).toEqual([`arkalia_${old2}`, `arkalia_${old1}`, `arkalia_${date}`].sort()); // no partial either
  });
});
