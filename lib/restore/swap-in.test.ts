import { mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { recordingSink } from '../events.ts';
import { fileTexts, tempDir } from '../testing.ts';
import { hashLive } from './hash-live.ts';
import { planChanges } from './plan-changes.ts';
import { planSwap } from './plan-swap.ts';
import { preservePrevious } from './preserve-previous.ts';
import { journalPath, readJournal, type RestoreJournal } from './restore-journal.ts';
import { settleInterrupted } from './settle-interrupted.ts';
import { swapIn } from './swap-in.ts';
import { DIR, otherProcess, swapScene as scene } from './swap-testing.ts';

// syncFiles, recorded: which files the swap made durable, and what the live tree was then.
const syncSpy = vi.hoisted(() => ({
  calls: [] as { dir: string; files: string[] }[],
  onCall: null as (() => Promise<void>) | null,
}));
vi.mock('../state/sync-files.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../state/sync-files.ts')>();
  return {
    ...real,
    syncFiles: async (dir: string, files: readonly string[], options?: { syncfs?: boolean }) => {
      syncSpy.calls.push({ dir, files: [...files] });
      await syncSpy.onCall?.();
      return real.syncFiles(dir, files, options);
    },
  };
});

/** The kinds of change at once: replace, create (in a new folder), remove, unchanged. */
const LIVE = {
  [`${DIR}zeroia_state.toml`]: '<<<<<<< HEAD\n',
  [`${DIR}extra.toml`]: 'extra = 1\n',
  [`${DIR}same.toml`]: 'same = 1\n',
  'state/keep.toml': 'k = 1\n',
};
const STAGED = {
  [`${DIR}zeroia_state.toml`]: 'good = true\n',
  [`${DIR}same.toml`]: 'same = 1\n',
  [`${DIR}new/nested.toml`]: 'n = 1\n',
  'state/new.toml': 'x = 1\n',
};

describe('swapIn', () => {
  it('replaces, creates and removes in place, keeps folders (bind mounts) and unchanged files, then preserves what it replaced', async () => {
    const s = await scene(LIVE, STAGED);
    const folder = (await stat(join(s.root, DIR))).ino;
    const unchanged = (await stat(join(s.root, DIR, 'same.toml'))).ino;
    const oldInode = (await stat(join(s.root, DIR, 'zeroia_state.toml'))).ino;
    expect(s.journal.entries.map((e) => `${e.action} ${e.path}`)).toEqual([
      `remove ${DIR}extra.toml`,
      `create ${DIR}new/nested.toml`,
      `replace ${DIR}zeroia_state.toml`,
      'create state/new.toml',
    ]);
    expect(s.journal.created_dirs).toEqual([`${DIR}new`]);
    const committed = await swapIn(s.journal);
    expect(committed.state).toBe('committed');
    expect((await readJournal(s.root))?.state).toBe('committed');
    expect(await fileTexts(s.root)).toEqual({
      '.ark-restore-journal.json': expect.any(String),
      [`${DIR}new/nested.toml`]: 'n = 1\n',
      [`${DIR}same.toml`]: 'same = 1\n',
      [`${DIR}zeroia_state.toml`]: 'good = true\n',
      'state/keep.toml': 'k = 1\n',
      'state/new.toml': 'x = 1\n',
    });
    expect((await stat(join(s.root, DIR))).ino).toBe(folder);
    expect((await stat(join(s.root, DIR, 'same.toml'))).ino).toBe(unchanged);

    const outcome = await preservePrevious(committed);
    expect(outcome).toEqual({
      preservedAt: join(s.base, 'backup', 'preserved', 'zeroia_state_x'),
      keptAt: null,
      problem: null,
    });
    expect(await fileTexts(outcome.preservedAt!)).toEqual({
      'extra.toml': 'extra = 1\n',
      'zeroia_state.toml': '<<<<<<< HEAD\n',
    });
    expect((await stat(join(outcome.preservedAt!, 'zeroia_state.toml'))).ino).toBe(oldInode); // the very file, not a copy
    expect(await readJournal(s.root)).toBeNull();
    expect(await readdir(s.base)).toEqual(['backup', 'root']); // workspace gone
  });

  it('makes every staged file it renames or links in durable before the first live change', async () => {
    const s = await scene(LIVE, STAGED);
    const before = await fileTexts(s.root);
    let liveAtSync: Record<string, string> | null = null;
    syncSpy.calls.length = 0;
    syncSpy.onCall = async () => {
      const { ['.ark-restore-journal.json']: _journal, ...live } = await fileTexts(s.root);
      liveAtSync = live;
    };
    try {
      await swapIn(s.journal);
    } finally {
      syncSpy.onCall = null;
    }
    const staged = (path: string) => join(s.workspace.staged, path);
    expect(syncSpy.calls).toEqual([
      {
        dir: s.workspace.staged,
        files: [staged(`${DIR}new/nested.toml`), staged(`${DIR}zeroia_state.toml`), staged('state/new.toml')],
      },
    ]);
    expect(liveAtSync).toEqual(before);
  });

  it('rolls back when a step fails midway (a folder where a file must go): the live tree is exactly as before', async () => {
    const s = await scene(
      {
        [`${DIR}aaa.toml`]: 'a = 1\n',
        [`${DIR}log.toml`]: 'corrupted {[}',
        [`${DIR}zeroia_state.toml/inner.toml`]: 'odd = 1\n',
      },
      { [`${DIR}log.toml`]: 'log = []\n', [`${DIR}zeroia_state.toml`]: 'good = true\n' },
    );
    const before = await fileTexts(s.root);
    const error = await swapIn(s.journal).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RESTORE_SWAP_FAILED', exitCode: 1 });
    expect((error as Error).message).toMatch(
      /create modules\/zeroia\/state\/zeroia_state\.toml: .*the live files were put back as they were/,
    );
    expect(await fileTexts(s.root)).toEqual(before);
    expect(await readdir(s.base)).toEqual(['root']);
  });

  it('never clobbers a file that appeared where it planned to create one', async () => {
    const s = await scene({}, { 'state/new.toml': 'x = 1\n' });
    await mkdir(join(s.root, 'state'));
    await writeFile(join(s.root, 'state/new.toml'), 'written meanwhile\n');
    await expect(swapIn(s.journal)).rejects.toMatchObject({
      code: 'RESTORE_SWAP_FAILED',
      message: expect.stringContaining('EEXIST'),
    });
    expect(await readFile(join(s.root, 'state/new.toml'), 'utf8')).toBe('written meanwhile\n');
  });

  it('replaces a symlink as a file, never writing through it, and puts it back on rollback', async () => {
    const outside = join(await tempDir('ark-outside-'), 'target.toml');
    await writeFile(outside, 'outside = true\n');
    const s = await scene(
      {},
      { [`${DIR}a.toml`]: 'a = 1\n', [`${DIR}link.toml`]: 'restored = 1\n', [`${DIR}z/z.toml`]: 'z = 1\n' },
    );
    await symlink(outside, join(s.root, DIR, 'link.toml'));
    await mkdir(join(s.root, DIR, 'z', 'z.toml'), { recursive: true }); // makes the last step fail
    const files = new Map(
      Object.entries({
        [`${DIR}a.toml`]: 'a = 1\n',
        [`${DIR}link.toml`]: 'restored = 1\n',
        [`${DIR}z/z.toml`]: 'z = 1\n',
      }).map(([p, c]) => [p, { sha256: sha256Buffer(c) }]),
    );
    const journal = await planSwap({
      root: s.root,
      workspace: s.workspace,
      changes: planChanges(files, await hashLive(s.root, files.keys(), [DIR]), [DIR]),
      preserveTo: join(s.base, 'p'),
      preserveBase: DIR,
      stoppedServices: [],
    });
    expect(journal.entries.find((e) => e.path.endsWith('link.toml'))).toMatchObject({
      action: 'replace',
      previousSha256: `symlink:${outside}`,
    });
    await expect(swapIn(journal)).rejects.toMatchObject({ code: 'RESTORE_SWAP_FAILED' });
    expect(await readFile(outside, 'utf8')).toBe('outside = true\n');
    expect(await readlink(join(s.root, DIR, 'link.toml'))).toBe(outside);
  });
});

describe('a swap killed at any point is rolled back exactly by the next run', () => {
  // The process "dies" after step N (it waits forever there); another run settles the journal.
  for (const point of ['swap:0', 'swap:1', 'swap:2', 'swap:3', 'swap:4']) {
    it(`killed at ${point}`, async () => {
      const s = await scene(LIVE, STAGED);
      const before = await fileTexts(s.root);
      const inodes = await inodesOf(s.root);
      const reached = new Promise<void>((resolve) => {
        const pauseAt = async (at: string) => {
          if (at !== point) return;
          resolve();
          await new Promise(() => {}); // killed here
        };
        void swapIn(s.journal, { pauseAt });
      });
      await reached;
      expect((await readJournal(s.root))?.state).toBe('swapping');
      const sink = recordingSink();
      const settled = await settleInterrupted(s.root, sink, otherProcess);
      expect(settled).toMatchObject({ outcome: 'rolled-back', files: 4, stoppedServices: ['zeroia'] });
      expect(sink.events).toContainEqual(expect.objectContaining({ kind: 'restore-settled', outcome: 'rolled-back' }));
      expect(await fileTexts(s.root)).toEqual(before);
      expect(await inodesOf(s.root)).toEqual(inodes); // the very same files, not copies
      expect(await readdir(s.base)).toEqual(['root']);
      expect(await settleInterrupted(s.root, sink, otherProcess)).toBeNull(); // nothing left to settle
    });
  }

  it('a rollback interrupted in turn can simply run again', async () => {
    const s = await scene(LIVE, STAGED);
    const before = await fileTexts(s.root);
    let release!: () => void;
    const reached = new Promise<void>((resolve) => {
      void swapIn(s.journal, {
        pauseAt: async (at) =>
          at === 'swap:3' ? (resolve(), await new Promise<void>((r) => (release = r))) : undefined,
      });
    });
    await reached;
    // Half a rollback by hand: the replaced file is back, the rest is not.
    const entry = s.journal.entries.find((e) => e.action === 'replace')!;
    await rename(entry.previous!, join(s.root, entry.path));
    await settleInterrupted(s.root, recordingSink(), otherProcess);
    expect(await fileTexts(s.root)).toEqual(before);
    void release;
  });

  it('killed after the commit: the next run finishes it (the restore stands, the previous files are preserved)', async () => {
    const s = await scene(LIVE, STAGED);
    const committed: RestoreJournal = await swapIn(s.journal);
    const after = await fileTexts(s.root);
    const settled = await settleInterrupted(s.root, recordingSink(), otherProcess);
    expect(settled).toMatchObject({
      outcome: 'completed',
      preservedAt: join(s.base, 'backup', 'preserved', 'zeroia_state_x'),
    });
    delete after['.ark-restore-journal.json'];
    expect(await fileTexts(s.root)).toEqual(after);
    expect(Object.keys(await fileTexts(settled!.preservedAt!)).sort()).toEqual(['extra.toml', 'zeroia_state.toml']);
    void committed;
  });

  it('refuses to touch a journal whose process still runs (another restore in progress)', async () => {
    const s = await scene(LIVE, STAGED);
    void swapIn(s.journal, { pauseAt: async (at) => (at === 'swap:1' ? await new Promise(() => {}) : undefined) });
    await waitFor(() => readJournal(s.root).then((j) => j !== null));
    await expect(settleInterrupted(s.root, recordingSink())).rejects.toMatchObject({ code: 'RESTORE_IN_PROGRESS' });
    expect(await stat(journalPath(s.root)).then(() => true)).toBe(true);
  });
});

describe('a failing step undoes every kind of step already applied', () => {
  it('remove, create and replace are all undone when the last step fails', async () => {
    const s = await scene({ ...LIVE, 'state/zz.toml': 'zz = 1\n' }, STAGED);
    const before = await fileTexts(s.root);
    const broken = {
      path: 'state/zz.toml',
      action: 'replace' as const,
      staged: join(s.workspace.staged, 'state/zz.toml') /* never staged */,
      previous: join(s.workspace.previous, 'state/zz.toml'),
      stagedSha256: 'x',
      previousSha256: sha256Buffer('zz = 1\n'),
    };
    const error = await swapIn({ ...s.journal, entries: [...s.journal.entries, broken] }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'RESTORE_SWAP_FAILED',
      message: expect.stringMatching(
        /^restore failed \(replace state\/zz\.toml: ENOENT.*the live files were put back as they were$/s,
      ),
    });
    expect(await fileTexts(s.root)).toEqual(before);
  });

  it('says so, and keeps the journal, when a previous copy was lost and a file cannot be put back', async () => {
    const s = await scene(LIVE, STAGED);
    let lose!: () => Promise<void>;
    const error = await swapIn(s.journal, {
      pauseAt: async (at) => {
        if (at !== 'swap:4') return;
        const replaced = s.journal.entries.find((e) => e.action === 'replace')!;
        lose = () => rm(replaced.previous!); // disk trouble in the workspace
        await lose();
        throw new Error('injected failure after the last step');
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RESTORE_ROLLBACK_FAILED', exitCode: 1 });
    expect((error as Error).message).toMatch(
      /could not all be put back:\n {2}modules\/zeroia\/state\/zeroia_state\.toml: its previous copy .* is missing[\s\S]*--resume/,
    );
    expect((await readJournal(s.root))?.state).toBe('swapping'); // kept, for --resume once the cause is fixed
    expect(await readFile(join(s.root, DIR, 'extra.toml'), 'utf8')).toBe('extra = 1\n'); // the rest was put back
  });
});

async function inodesOf(root: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of await readdir(root, { recursive: true })) {
    const info = await stat(join(root, name));
    if (info.isFile()) out[name] = info.ino;
  }
  return out;
}

async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('timed out');
}
