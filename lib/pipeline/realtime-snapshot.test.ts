import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingSink } from '../events.ts';
import { resolvePolicy } from '../policy/index.ts';
import { INVALID_STATES, listFiles, manualClock, mountTmpfs, VALID_STATES } from '../snapshot/testing.ts';
import { INVALID_RECORD_FILE } from '../snapshot/index.ts';
import { copyFixture, tempDir } from '../testing.ts';
import { realtimeExitCode, runRealtimeSnapshot, watchRealtimeSnapshots } from './realtime-snapshot.ts';

const policy = resolvePolicy({}, 'built-in');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('runRealtimeSnapshot (one-shot)', () => {
  it('snapshots the valid fixture states byte for byte, reports the two invalid ones, then writes nothing new until a file changes', async () => {
    const root = await copyFixture({ withEnv: false });
    const backupDir = await tempDir('ark-rt-');
    const clock = manualClock();
    const sink = recordingSink();
    const first = await runRealtimeSnapshot({ root, backupDir, policy, sink, now: clock.now });
    expect(realtimeExitCode(first)).toBe(3);
    expect(first.invalid.map((i) => i.path)).toEqual(INVALID_STATES);
    expect(first.totals).toEqual({
      written: 6,
      bytesWritten: first.written.reduce((n, w) => n + w.bytes, 0),
      unchanged: 0,
      invalid: 2,
      failed: 0,
      pruned: 0,
    });
    expect(await listFiles(join(backupDir, 'realtime'))).toEqual(VALID_STATES.map((p) => `${p}.20260315_120000`));
    for (const path of VALID_STATES) {
      expect(
        (await readFile(join(backupDir, 'realtime', `${path}.20260315_120000`))).equals(
          await readFile(join(root, path)),
        ),
        path,
      ).toBe(true);
    }
    expect(
      sink.events.filter((e) => e.kind === 'invalid-state').map((e) => e.kind === 'invalid-state' && e.path),
    ).toEqual(INVALID_STATES);

    clock.tick(5_000);
    const second = await runRealtimeSnapshot({ root, backupDir, policy, sink: recordingSink(), now: clock.now });
    expect(second.totals).toMatchObject({ written: 0, unchanged: 6, invalid: 2 });

    await writeFile(join(root, 'state/zeroia_state.toml'), 'changed = true\n');
    clock.tick(5_000);
    const third = await runRealtimeSnapshot({ root, backupDir, policy, sink: recordingSink(), now: clock.now });
    expect(third.written.map((w) => w.snapshot)).toEqual(['realtime/state/zeroia_state.toml.20260315_120010']);
    expect(third.durationMs).toBe(0); // the injected clock did not move during the run
  });

  it('prunes past realtime.keep in the same run, keeping the newest of each file', async () => {
    const root = await copyFixture({ withEnv: false });
    const backupDir = await tempDir('ark-rt-');
    const old = {
      'realtime/state/zeroia_state.toml.20260301_000000': 'a = 1\n', // superseded by today's snapshot: goes
      'realtime/state/gone.toml.20260101_000000': 'a = 1\n', // its live file is gone: its only snapshot stays
      'realtime/state/notes.md': 'keep me',
    };
    for (const [rel, content] of Object.entries(old)) {
      await mkdir(dirname(join(backupDir, rel)), { recursive: true });
      await writeFile(join(backupDir, rel), content);
    }
    const report = await runRealtimeSnapshot({
      root,
      backupDir,
      policy: resolvePolicy({ realtime: { keep: 'P7D' } }, 'test'),
      sink: recordingSink(),
      now: manualClock().now,
    });
    expect(report.pruned).toEqual(['realtime/state/zeroia_state.toml.20260301_000000']);
    const files = await listFiles(join(backupDir, 'realtime'));
    expect(files).toContain('state/gone.toml.20260101_000000');
    expect(files).toContain('state/notes.md');
  });

  it('disk full: the file that does not fit is reported (exit 1), the others are still snapshotted, nothing partial is left', async () => {
    const root = await copyFixture({ withEnv: false });
    await writeFile(join(root, 'state/big_state.toml'), `blob = "${'b'.repeat(200 * 1024)}"\n`);
    const fs = await mountTmpfs('64k');
    try {
      const sink = recordingSink();
      const report = await runRealtimeSnapshot({ root, backupDir: fs.dir, policy, sink, now: manualClock().now });
      expect(realtimeExitCode(report)).toBe(1);
      expect(report.failed).toEqual([
        { path: 'state/big_state.toml', code: 'DISK_FULL', message: expect.stringMatching(/no space left/) },
      ]);
      expect(report.written.map((w) => w.path)).toEqual(VALID_STATES);
      expect(await listFiles(fs.dir)).toEqual([
        INVALID_RECORD_FILE, // which state files were invalid: for the next pass
        ...VALID_STATES.map((p) => `realtime/${p}.20260315_120000`),
      ]);
      expect(sink.events).toContainEqual(
        expect.objectContaining({ kind: 'snapshot-failed', path: 'state/big_state.toml', code: 'DISK_FULL' }),
      );
    } finally {
      await fs.unmount();
    }
  });

  it('--dry-run writes nothing and reports what it would do', async () => {
    const root = await copyFixture({ withEnv: false });
    const backupDir = await tempDir('ark-rt-');
    const sink = recordingSink();
    const report = await runRealtimeSnapshot({ root, backupDir, policy, sink, now: manualClock().now, dryRun: true });
    expect(report.totals).toMatchObject({ written: 6, invalid: 2 });
    expect(realtimeExitCode(report)).toBe(3);
    expect(sink.events).toContainEqual({
      kind: 'dry-run',
      detail: true,
      message: 'would snapshot state/zeroia_state.toml → realtime/state/zeroia_state.toml.20260315_120000',
    });
    expect(await listFiles(backupDir)).toEqual([]);
  });

  it('a root that is not a folder, or a realtime path it cannot honour, is a usage error (exit 2) before anything is written', async () => {
    const backupDir = await tempDir('ark-rt-');
    await expect(
      runRealtimeSnapshot({ root: join(backupDir, 'nope'), backupDir, policy, sink: recordingSink() }),
    ).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/is not a folder/) });
    const root = await copyFixture({ withEnv: false });
    const bad = resolvePolicy({ realtime: { paths: ['/srv/elsewhere/*.toml'] } }, 'p.toml');
    await expect(runRealtimeSnapshot({ root, backupDir, policy: bad, sink: recordingSink() })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/must be relative to the Arkalia root/),
    });
    expect(await listFiles(backupDir)).toEqual([]);
  });
});

describe('watchRealtimeSnapshots', { timeout: 15_000 }, () => {
  it('refuses a root that is not a folder (exit 2) without watching anything', async () => {
    const backupDir = await tempDir('ark-rt-');
    await expect(
      watchRealtimeSnapshots({
        root: join(backupDir, 'nope'),
        backupDir,
        policy,
        sink: recordingSink(),
        debounceMs: 10,
        maxWaitMs: 10,
        rescanMs: 10,
      }),
    ).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/is not a folder/),
    });
  });

  it('a burst of writes gives one snapshot of the settled content; stop() returns the totals', async () => {
    const root = await copyFixture({ withEnv: false });
    const backupDir = await tempDir('ark-rt-');
    const sink = recordingSink();
    const session = await watchRealtimeSnapshots({
      root,
      backupDir,
      policy,
      sink,
      debounceMs: 250,
      maxWaitMs: 5000,
      rescanMs: 60_000,
    });
    const series = (path: string) =>
      listFiles(join(backupDir, 'realtime')).then((fs) => fs.filter((f) => f.startsWith(`${path}.`)));
    try {
      const path = 'modules/zeroia/state/zeroia_state.toml';
      const deadline = Date.now() + 5000;
      while ((await series(path)).length === 0 && Date.now() < deadline) await sleep(10);
      expect(await series(path)).toHaveLength(1); // the initial pass

      const live = join(root, path);
      for (let i = 1; i <= 20; i++) {
        await writeFile(`${live}.tmp`, `[heartbeat]\nsequence = ${i}\n`);
        await rename(`${live}.tmp`, live);
        await sleep(5);
      }
      while ((await series(path)).length < 2 && Date.now() < deadline) await sleep(10);
      await sleep(500); // more than the debounce: a second snapshot would have appeared by now
      const names = await series(path);
      expect(names).toHaveLength(2);
      expect(await readFile(join(backupDir, 'realtime', names.at(-1)!), 'utf8')).toBe('[heartbeat]\nsequence = 20\n');
    } finally {
      const report = await session.stop();
      expect(report.totals).toMatchObject({ written: 7, invalid: 2, failed: 0 });
      expect(report.invalid.map((i) => i.path)).toEqual(INVALID_STATES);
    }
  });
});
