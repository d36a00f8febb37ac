import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ArkError } from '../errors.ts';
import { copyFixture, tempDir } from '../testing.ts';
import { validateToml } from '../state/index.ts';
import { SnapshotCatalog } from './snapshot-catalog.ts';
import { takeSnapshot, type SnapshotOutcome } from './take-snapshot.ts';
import { INVALID_STATES, listFiles, manualClock, mountTmpfs } from './testing.ts';

const run = promisify(execFile);
const ZEROIA = 'modules/zeroia/state/zeroia_state.toml';

async function setup() {
  const root = await copyFixture({ withEnv: false });
  const backupDir = await tempDir('ark-snap-');
  const clock = manualClock();
  const catalog = new SnapshotCatalog(backupDir);
  const snap = (path: string, extra: { catalog?: SnapshotCatalog; dryRun?: boolean } = {}) =>
    takeSnapshot({ root, backupDir, path, catalog, now: clock.now, ...extra });
  return { root, backupDir, clock, catalog, snap };
}

describe('takeSnapshot', () => {
  it('writes the live bytes under realtime/<path>.<stamp>, then skips unchanged content, then snapshots a change', async () => {
    const { root, backupDir, clock, snap } = await setup();
    const first = await snap(ZEROIA);
    expect(first).toMatchObject({ status: 'written', snapshot: `realtime/${ZEROIA}.20260315_120000` });
    expect(
      (await readFile(join(backupDir, `realtime/${ZEROIA}.20260315_120000`))).equals(
        await readFile(join(root, ZEROIA)),
      ),
    ).toBe(true);

    clock.tick(60_000);
    expect(await snap(ZEROIA)).toMatchObject({ status: 'unchanged', snapshot: `realtime/${ZEROIA}.20260315_120000` });
    // A fresh catalog (a new run) finds the same newest snapshot on disk.
    expect(await snap(ZEROIA, { catalog: new SnapshotCatalog(backupDir) })).toMatchObject({ status: 'unchanged' });

    await writeFile(join(root, ZEROIA), '[decision]\nlast_decision = "changed"\n');
    const third = await snap(ZEROIA);
    expect(third).toMatchObject({ status: 'written', snapshot: `realtime/${ZEROIA}.20260315_120100` });
    expect(await readFile(join(backupDir, `realtime/${ZEROIA}.20260315_120100`), 'utf8')).toBe(
      '[decision]\nlast_decision = "changed"\n',
    );
    expect(await listFiles(join(backupDir, 'realtime'))).toEqual([
      `${ZEROIA}.20260315_120000`,
      `${ZEROIA}.20260315_120100`,
    ]);
  });

  it('never snapshots an invalid file, and says why', async () => {
    const { backupDir, snap } = await setup();
    for (const path of INVALID_STATES) {
      const outcome = await snap(path);
      expect(outcome).toMatchObject({
        status: 'invalid',
        path,
        reason: expect.stringMatching(/git merge-conflict markers/),
      });
    }
    expect(await listFiles(backupDir)).toEqual([]);
  });

  it('never snapshots an empty state (an in-place writer between truncate and write): the last one with content stays newest', async () => {
    const { root, backupDir, clock, snap } = await setup();
    expect(await snap(ZEROIA)).toMatchObject({ status: 'written' });
    await new Promise((r) => setTimeout(r, 100)); // an existing state, emptied later
    await writeFile(join(root, ZEROIA), '');
    clock.tick(1_000);
    expect(await snap(ZEROIA)).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/^empty \(0 bytes\)/),
    });
    expect(await listFiles(backupDir)).toEqual([`realtime/${ZEROIA}.20260315_120000`]);

    // Caught between the truncate and the write of a writer descheduled for 200 ms: it waits, and snapshots the write.
    const next = 'last_decision = "hold"\n';
    await writeFile(join(root, ZEROIA), '');
    const writing = new Promise((resolve) =>
      setTimeout(() => void writeFile(join(root, ZEROIA), next).then(resolve), 200),
    );
    clock.tick(1_000);
    const outcome = await snap(ZEROIA);
    await writing;
    expect(outcome).toMatchObject({ status: 'written', snapshot: `realtime/${ZEROIA}.20260315_120002` });
    expect(await readFile(join(backupDir, `realtime/${ZEROIA}.20260315_120002`), 'utf8')).toBe(next);
  });

  it('two versions in one second get _001, and a name taken meanwhile by another writer is never replaced', async () => {
    const { root, backupDir, clock, catalog, snap } = await setup();
    await snap(ZEROIA);
    await writeFile(join(root, ZEROIA), 'v = 2\n');
    expect(await snap(ZEROIA)).toMatchObject({ status: 'written', snapshot: `realtime/${ZEROIA}.20260315_120000_001` });

    // Another process publishes <stamp> after our catalog listed the folder: link(2) refuses, we take _001.
    clock.tick(1000);
    await catalog.names(ZEROIA);
    const theirs = join(backupDir, `realtime/${ZEROIA}.20260315_120001`);
    await writeFile(theirs, 'theirs = true\n');
    await writeFile(join(root, ZEROIA), 'v = 3\n');
    expect(await snap(ZEROIA)).toMatchObject({ status: 'written', snapshot: `realtime/${ZEROIA}.20260315_120001_001` });
    expect(await readFile(theirs, 'utf8')).toBe('theirs = true\n');
    expect(await readFile(`${theirs}_001`, 'utf8')).toBe('v = 3\n');
    expect((await listFiles(backupDir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('trusts the disk over its cache: a newest snapshot deleted under a long-running watch is written again', async () => {
    const { backupDir, snap } = await setup();
    await snap(ZEROIA);
    await rm(join(backupDir, `realtime/${ZEROIA}.20260315_120000`));
    expect(await snap(ZEROIA)).toMatchObject({ status: 'written' });
    expect(await listFiles(backupDir)).toEqual([`realtime/${ZEROIA}.20260315_120000`]);
  });

  it('--dry-run decides without writing anything, not even folders', async () => {
    const { backupDir, snap } = await setup();
    expect(await snap(ZEROIA, { dryRun: true })).toMatchObject({
      status: 'would-write',
      snapshot: `realtime/${ZEROIA}.20260315_120000`,
    });
    expect(await listFiles(backupDir)).toEqual([]);
  });

  it('skips what is not a regular file without hanging (a FIFO named like a state file)', async () => {
    const { root, snap } = await setup();
    await run('mkfifo', [join(root, 'state', 'pipe.toml')]);
    expect(await snap('state/pipe.toml')).toEqual({
      status: 'skipped',
      path: 'state/pipe.toml',
      reason: 'not a regular file',
    });
  });

  it('under a writer renaming versions (valid and invalid) over the file, every snapshot is whole, valid and one of the valid versions', async () => {
    const { root, backupDir, clock, snap } = await setup();
    const live = join(root, ZEROIA);
    // Big enough that reads and writes overlap; odd versions are invalid TOML.
    const filler = 'x'.repeat(32 * 1024);
    const version = (i: number) =>
      i % 2 === 0
        ? `sequence = ${i}\nblob = "${filler}"\n`
        : `<<<<<<< HEAD\nsequence = ${i}\n=======\nblob = "${filler}"\n>>>>>>> dev\n`;
    const valid = new Set<string>([await readFile(live, 'utf8')]);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const tmp = join(root, 'modules/zeroia/state', `.zeroia_state.toml.tmp-${i}`);
        await writeFile(tmp, version(i));
        if (i % 2 === 0) valid.add(version(i));
        await rename(tmp, live);
      }
    })();
    const outcomes: SnapshotOutcome[] = [];
    const count = (status: SnapshotOutcome['status']) => outcomes.filter((o) => o.status === status).length;
    const deadline = Date.now() + 5000;
    try {
      while ((count('written') < 12 || count('invalid') < 1) && Date.now() < deadline) {
        clock.tick(1000);
        outcomes.push(await snap(ZEROIA));
      }
    } finally {
      writing = false;
      await writer;
    }
    const written = outcomes.filter((o) => o.status === 'written');
    expect(written.length, 'the race was exercised').toBeGreaterThanOrEqual(12);
    expect(
      outcomes.some((o) => o.status === 'invalid'),
      'some invalid version was read and refused',
    ).toBe(true);
    const files = await listFiles(join(backupDir, 'realtime'));
    expect(files.length).toBe(written.length);
    for (const file of files) {
      const content = await readFile(join(backupDir, 'realtime', file));
      expect(validateToml(content), file).toEqual({ ok: true });
      expect(valid.has(content.toString()), `${file} is one of the versions written`).toBe(true);
    }
  });

  it('disk full: a clear DISK_FULL error, its temp file removed, nothing under a final name, room left for the next', async () => {
    const root = await copyFixture({ withEnv: false });
    const big = 'state/big_state.toml';
    await writeFile(join(root, big), `blob = "${'b'.repeat(200 * 1024)}"\n`);
    const fs = await mountTmpfs('64k');
    try {
      const catalog = new SnapshotCatalog(fs.dir);
      const error = await takeSnapshot({ root, backupDir: fs.dir, path: big, catalog }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ArkError);
      expect(error).toMatchObject({ code: 'DISK_FULL', exitCode: 1, details: { path: big, errno: 'ENOSPC' } });
      expect((error as Error).message).toMatch(
        /no space left in .* while writing the snapshot of state\/big_state\.toml \(ENOSPC\)\. Nothing was published for it and its temp file was removed/,
      );
      expect(await listFiles(fs.dir)).toEqual([]);
      // The space the temp file held is free again: a small state still fits.
      expect(await takeSnapshot({ root, backupDir: fs.dir, path: ZEROIA, catalog })).toMatchObject({
        status: 'written',
      });
      expect((await listFiles(fs.dir)).map((f) => f.replace(/\.\d{8}_\d{6}$/, ''))).toEqual([`realtime/${ZEROIA}`]);
    } finally {
      await fs.unmount();
    }
  });

  it('a state folder that cannot be read is a clear failure, not a crash', async () => {
    const { root, backupDir } = await setup();
    await mkdir(join(root, 'state', 'dir.toml'));
    expect(
      await takeSnapshot({ root, backupDir, path: 'state/dir.toml', catalog: new SnapshotCatalog(backupDir) }),
    ).toMatchObject({ status: 'skipped', reason: 'not a regular file' });
  });
});
