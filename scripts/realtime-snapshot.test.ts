// scripts/realtime-snapshot.mts as an operator (or cron, or systemd) runs it: a subprocess,
// its exit code, its stdout/stderr, and the snapshots it leaves.
import type { ChildProcess } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INVALID_STATES, listFiles, mountTmpfs, VALID_STATES } from '../lib/snapshot/testing.ts';
import { INVALID_RECORD_FILE } from '../lib/snapshot/index.ts';
import { copyFixture, tempDir } from '../lib/testing.ts';
import { envelopeOf, resultOf, startScript, type ScriptOptions, type ScriptRun } from './testing.ts';

const STAMPED = /\.\d{8}_\d{6}(_\d{3})?$/;

const start = (args: string[], options?: ScriptOptions) => startScript('realtime-snapshot', args, {}, options);
const snapshot = (args: string[], options?: ScriptOptions) => start(args, options).done;

function expectNoStackTrace(outcome: ScriptRun): void {
  expect(outcome.stderr).not.toMatch(/^\s+at /m);
  expect(outcome.stdout).not.toMatch(/^\s+at /m);
}

async function waitFor(what: string, probe: () => Promise<boolean>, child: ChildProcess, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the script ended before ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Snapshots of `path` (relative to the root), oldest first. */
async function series(backupDir: string, path: string): Promise<string[]> {
  const dir = join(backupDir, 'realtime', path, '..');
  const base = path.split('/').at(-1)!;
  return (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => n.startsWith(`${base}.`) && STAMPED.test(n))
    .sort();
}

describe('realtime-snapshot.mts: command line', { timeout: 60_000 }, () => {
  it('--help prints usage on stdout and exits 0, also through zx', async () => {
    const outcomes = await Promise.all([snapshot(['--help']), snapshot(['--help'], { viaZx: true })]);
    for (const outcome of outcomes) {
      expect(outcome.code, outcome.stderr).toBe(0);
      expect(outcome.stdout).toMatch(/^Usage: realtime-snapshot\.mts/);
      for (const flag of [
        '--watch',
        '--debounce-ms N',
        '--dry-run',
        '--root DIR',
        '--backup-dir DIR',
        '--policy FILE',
        '--json',
        'realtime/<path under the root>.<YYYYMMDD_HHMMSS>',
      ])
        expect(outcome.stdout).toContain(flag);
      expect(outcome.stderr).toBe('');
    }
  });

  it('bad input: exit 2, a message naming the problem, no stack trace, nothing written', async () => {
    const root = await copyFixture({ withEnv: false });
    const backupDir = await tempDir('ark-rt-bad-');
    const work = await tempDir('ark-rt-policy-');
    await writeFile(join(work, 'abs.toml'), '[realtime]\npaths = ["/var/lib/x/*.toml"]\n');
    const common = ['--root', root, '--backup-dir', backupDir];
    const cases: { args: string[]; message: RegExp }[] = [
      { args: [...common, '--json', '--bogus'], message: /Unknown option '--bogus'/ },
      {
        args: [...common, '--watch', '--debounce-ms', 'soon'],
        message: /--debounce-ms must be a whole number of milliseconds/,
      },
      { args: [...common, '--debounce-ms', '100'], message: /--debounce-ms only applies with --watch/ },
      { args: [...common, '--watch', '--dry-run'], message: /--dry-run cannot be combined with --watch/ },
      {
        args: [...common, '--json', '--policy', join(work, 'abs.toml')],
        message: /realtime\.paths entry "\/var\/lib\/x\/\*\.toml" must be relative to the Arkalia root/,
      },
      {
        args: ['--root', join(backupDir, 'no-such-root'), '--backup-dir', backupDir, '--watch'],
        message: /Arkalia root .*no-such-root is not a folder/,
      },
    ];
    const outcomes = await Promise.all(cases.map((c) => snapshot(c.args)));
    outcomes.forEach((outcome, i) => {
      const { args, message } = cases[i]!;
      const label = args.join(' ');
      expect(outcome.code, `${label}\n${outcome.stderr}`).toBe(2);
      expect(outcome.stderr, label).toMatch(message);
      expect(outcome.stderr, label).toMatch(/^✗ /m);
      expectNoStackTrace(outcome);
      if (args.includes('--json'))
        expect(envelopeOf(outcome, 'realtime-snapshot'), label).toMatchObject({
          ok: false,
          exit_code: 2,
          error: { message: expect.stringMatching(message) },
        });
      else expect(outcome.stdout, label).toBe('');
    });
    expect(await readdir(backupDir)).toEqual([]);
  });
});

describe('realtime-snapshot.mts: one-shot', { timeout: 60_000 }, () => {
  it('-q, as cron runs it every minute: prints only what is new or wrong — an invalid file once, then nothing while it stays so (still exit 3); a new reason, again', async () => {
    const root = await copyFixture({ withEnv: false });
    const backupDir = await tempDir('ark-rt-q-');
    const args = ['--root', root, '--backup-dir', backupDir, '-q'];
    const first = await snapshot(args);
    expect(first.code, first.stderr).toBe(3);
    const lines = first.stderr.trim().split('\n');
    expect(lines).toEqual([
      ...INVALID_STATES.map((p) => expect.stringMatching(new RegExp(`^✗ invalid TOML: ${p} — `))),
      expect.stringMatching(/^⚠ snapshots: 6 written, 0 unchanged, 2 invalid, 0 failed/),
    ]);
    const again = await snapshot(args);
    expect(again.code, again.stderr).toBe(3); // still invalid: the exit code and the gauge say it every time
    expect(again.stderr).toBe('');
    const loud = await snapshot(['--root', root, '--backup-dir', backupDir]); // without -q it is still said, unmarked
    expect(loud.stderr).toMatch(/^ {2}\(still invalid TOML: /m);
    expect(loud.stderr).toMatch(/^• snapshots: .*, 2 invalid/m);
    expect(loud.stderr).not.toMatch(/^(⚠|✗)/m);
    await writeFile(join(root, INVALID_STATES[0]!), 'a = = 1\n'); // invalid for another reason now
    const changed = await snapshot(args);
    expect(changed.code).toBe(3);
    expect(changed.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^✗ invalid TOML: ${INVALID_STATES[0]} — `)),
      expect.stringMatching(/^⚠ snapshots: /),
    ]);
  });

  it('snapshots the valid states byte for byte, names the two invalid ones (exit 3); again: nothing new; a change, a fix: new snapshots, exit 0', async () => {
    const root = await copyFixture({ withEnv: false });
    const backupDir = await tempDir('ark-rt-');
    const args = ['--root', root, '--backup-dir', backupDir, '--json'];

    const first = await snapshot(args);
    expect(first.code, first.stderr).toBe(3);
    expectNoStackTrace(first);
    for (const path of INVALID_STATES)
      expect(first.stderr).toMatch(new RegExp(`invalid TOML: ${path} — git merge-conflict markers`));
    expect(first.stderr).toMatch(/2 state file\(s\) are invalid TOML and were not snapshotted/);
    const envelope = envelopeOf(first, 'realtime-snapshot');
    expect(envelope).toMatchObject({ ok: false, exit_code: 3, policy: 'built-in', error: null });
    const result = envelope.result as Record<string, unknown> & {
      written: { path: string; snapshot: string; bytes: number }[];
      invalid_states: { path: string }[];
    };
    expect(result).toMatchObject({
      mode: 'once',
      dry_run: false,
      snapshots_written: 6,
      invalid_count: 2,
      failed_count: 0,
      unchanged: 0,
    });
    expect(result.bytes_written).toBe(result.written.reduce((n, w) => n + w.bytes, 0));
    expect(result.invalid_states.map((s) => s.path)).toEqual(INVALID_STATES);
    const files = await listFiles(join(backupDir, 'realtime'));
    expect(files.map((f) => f.replace(STAMPED, ''))).toEqual(VALID_STATES);
    for (const path of VALID_STATES) {
      const [name] = await series(backupDir, path);
      expect(
        (await readFile(join(backupDir, 'realtime', path, '..', name!))).equals(await readFile(join(root, path))),
        path,
      ).toBe(true);
    }

    const second = await snapshot(args);
    expect(second.code, second.stderr).toBe(3);
    expect(resultOf(second)).toMatchObject({ snapshots_written: 0, unchanged: 6, invalid_count: 2 });
    expect(await listFiles(join(backupDir, 'realtime'))).toEqual(files);

    // A service writes a new state; an operator resolves the conflict markers.
    await writeFile(join(root, 'modules/zeroia/state/zeroia_state.toml'), '[decision]\nlast_decision = "after"\n');
    for (const path of INVALID_STATES) {
      const text = await readFile(join(root, path), 'utf8');
      await writeFile(join(root, path), text.replace(/^<{7} .*\n[\s\S]*?^={7}\n([\s\S]*?)^>{7} .*\n/gm, '$1'));
    }
    const third = await snapshot(args);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toMatch(/✅ snapshots: 3 written, 5 unchanged, 0 invalid/);
    const written = (resultOf(third) as { written: { path: string }[] }).written.map((w) => w.path);
    expect(written).toEqual(['modules/zeroia/state/zeroia_state.toml', ...INVALID_STATES]);
    const zeroia = await series(backupDir, 'modules/zeroia/state/zeroia_state.toml');
    expect(zeroia).toHaveLength(2);
    expect(await readFile(join(backupDir, 'realtime/modules/zeroia/state', zeroia[1]!), 'utf8')).toBe(
      '[decision]\nlast_decision = "after"\n',
    );
  });

  it('--dry-run says what it would write and writes nothing (exit 3 like a real run); a full disk is exit 1 naming the file', async () => {
    const root = await copyFixture({ withEnv: false });
    const backupDir = await tempDir('ark-rt-');
    await writeFile(join(root, 'state/big_state.toml'), `blob = "${'b'.repeat(200 * 1024)}"\n`);
    const fs = await mountTmpfs('64k');
    try {
      const [dry, full] = await Promise.all([
        snapshot(['--root', root, '--backup-dir', backupDir, '--dry-run', '-v', '--json']),
        snapshot(['--root', root, '--backup-dir', fs.dir, '--json']),
      ]);
      expect(dry.code, dry.stderr).toBe(3);
      expect(dry.stderr).toMatch(
        /\[dry run\] would snapshot state\/zeroia_state\.toml → realtime\/state\/zeroia_state\.toml\.\d{8}_\d{6}/,
      );
      expect(resultOf(dry)).toMatchObject({ dry_run: true, snapshots_written: 7, invalid_count: 2 });
      expect(await readdir(backupDir)).toEqual([]);

      expect(full.code, full.stderr).toBe(1);
      expectNoStackTrace(full);
      expect(full.stderr).toMatch(
        /✗ no snapshot of state\/big_state\.toml: no space left in .* \(ENOSPC\)\. Nothing was published for it/,
      );
      expect(envelopeOf(full)).toMatchObject({ exit_code: 1, error: null });
      expect(resultOf(full)).toMatchObject({
        snapshots_written: 6,
        failed_count: 1,
        failed: [{ path: 'state/big_state.toml', code: 'DISK_FULL' }],
      });
      // No temp file left; beside the snapshots, only the record of which files were invalid.
      expect((await listFiles(fs.dir)).filter((f) => !STAMPED.test(f) && f !== INVALID_RECORD_FILE)).toEqual([]);
    } finally {
      await fs.unmount();
    }
  });
});

describe('realtime-snapshot.mts --watch', { timeout: 60_000 }, () => {
  it('snapshots a burst once; SIGTERM stops it cleanly (exit 0, JSON totals); SIGINT first snapshots a change still settling', async () => {
    const rootA = await copyFixture({ withEnv: false });
    const rootB = await copyFixture({ withEnv: false });
    const backupA = await tempDir('ark-rt-watch-');
    const backupB = await tempDir('ark-rt-watch-');
    const a = start(['--root', rootA, '--backup-dir', backupA, '--watch', '--debounce-ms', '300', '--json']);
    const b = start([
      '--root',
      rootB,
      '--backup-dir',
      backupB,
      '--watch',
      '--debounce-ms',
      '5000',
      '--max-wait-ms',
      '60000',
      '--json',
    ]);
    const path = 'state/zeroia_state.toml';
    try {
      await Promise.all([
        waitFor(
          'the initial snapshots',
          async () => /watching \d+ folder/.test(a.stderr()) && (await series(backupA, path)).length === 1,
          a.child,
        ),
        waitFor(
          'the initial snapshots',
          async () => /watching \d+ folder/.test(b.stderr()) && (await series(backupB, path)).length === 1,
          b.child,
        ),
      ]);

      // A: a burst of 15 writes → one more snapshot, of the last version.
      for (let i = 1; i <= 15; i++) {
        await writeFile(join(rootA, path), `sequence = ${i}\n`);
        await new Promise((r) => setTimeout(r, 10));
      }
      await waitFor('the burst snapshot', async () => (await series(backupA, path)).length === 2, a.child);
      await new Promise((r) => setTimeout(r, 600));
      const names = await series(backupA, path);
      expect(names).toHaveLength(2);
      expect(await readFile(join(backupA, 'realtime/state', names[1]!), 'utf8')).toBe('sequence = 15\n');

      // B: a change that would settle only in 5 s, then SIGINT at once: snapshotted before exit.
      await writeFile(join(rootB, path), 'late = true\n');
      await new Promise((r) => setTimeout(r, 300));
      expect(await series(backupB, path)).toHaveLength(1);
      b.child.kill('SIGINT');
      a.child.kill('SIGTERM');
      const [outA, outB] = await Promise.all([a.done, b.done]);

      expect(outA.code, outA.stderr).toBe(0);
      expectNoStackTrace(outA);
      expect(outA.stderr).toMatch(/SIGTERM: finishing pending snapshots/);
      expect(envelopeOf(outA, 'realtime-snapshot')).toMatchObject({ ok: true, exit_code: 0 });
      expect(resultOf(outA)).toMatchObject({
        mode: 'watch',
        signal: 'SIGTERM',
        snapshots_written: 7,
        failed_count: 0,
        invalid_states: INVALID_STATES.map((p) => ({ path: p })),
      });

      expect(outB.code, outB.stderr).toBe(0);
      expect(resultOf(outB)).toMatchObject({ mode: 'watch', signal: 'SIGINT', snapshots_written: 7 });
      const namesB = await series(backupB, path);
      expect(namesB).toHaveLength(2);
      expect(await readFile(join(backupB, 'realtime/state', namesB[1]!), 'utf8')).toBe('late = true\n');
      for (const dir of [backupA, backupB]) expect((await listFiles(dir)).filter((f) => !STAMPED.test(f))).toEqual([]);
    } finally {
      for (const p of [a, b]) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    }
  });
});
