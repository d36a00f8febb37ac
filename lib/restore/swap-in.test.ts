import { mkdir, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { recordingSink } from '../events.ts';
import { currentProcess } from '../lock/index.ts';
import { fileTexts, tempDir } from '../testing.ts';
import { hashLive } from './hash-live.ts';
import { planChanges } from './plan-changes.ts';
import { planSwap } from './plan-swap.ts';
import { preservePrevious } from './preserve-previous.ts';
import { journalPath, readJournal, type RestoreJournal } from './restore-journal.ts';
import { createWorkspace } from './restore-workspace.ts';
import { settleInterrupted } from './settle-interrupted.ts';
import { swapIn } from './swap-in.ts';

const DIR = 'modules/zeroia/state/';

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

/** A live root and a workspace whose staging holds "the backup", planned as the pipeline plans it. */
async function scene(live: Record<string, string>, staged: Record<string, string>, mirror = [DIR]) {
  const base = await tempDir('ark-swap-');
  const root = join(base, 'root');
  await mkdir(join(root, DIR), { recursive: true });
  for (const [path, content] of Object.entries(live)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const workspace = await createWorkspace(root, { dryRun: false });
  const files = new Map<string, { sha256: string }>();
  for (const [path, content] of Object.entries(staged)) {
    await mkdir(dirname(join(workspace.staged, path)), { recursive: true });
    await writeFile(join(workspace.staged, path), content);
    files.set(path, { sha256: sha256Buffer(content) });
  }
  const changes = planChanges(files, await hashLive(root, files.keys(), mirror), mirror);
  const journal = await planSwap({
    root,
    workspace,
    changes,
    preserveTo: join(base, 'backup', 'preserved', 'zeroia_state_x'),
    preserveBase: DIR,
    stoppedServices: ['zeroia'],
  });
  return { base, root, workspace, changes, journal };
}

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

/** As if the process died there: the swap waits forever at that point, and another "process" settles. */
const otherProcess = { ...currentProcess(), pid: process.pid + 1, bootId: 'another-boot' };

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

describe('a folder on another filesystem inside the root (a mount)', () => {
  it('swaps through sidecars beside the files, with the same rollback guarantee', async () => {
    const base = await tempDir('ark-swap-mnt-');
    const root = join(base, 'root');
    const mounted = join(root, 'modules/zeroia/state');
    await mkdir(mounted, { recursive: true });
    const { execFile } = await import('node:child_process');
    const sh = (cmd: string, args: string[]) =>
      new Promise<void>((resolve, reject) => execFile(cmd, args, (e) => (e ? reject(e) : resolve())));
    await sh('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mounted]);
    try {
      await writeFile(join(mounted, 'zeroia_state.toml'), '<<<<<<< HEAD\n');
      await writeFile(join(mounted, 'extra.toml'), 'extra = 1\n');
      const workspace = await createWorkspace(root, { dryRun: false });
      const staged = { [`${DIR}zeroia_state.toml`]: 'good = true\n', [`${DIR}new.toml`]: 'n = 1\n' };
      const files = new Map<string, { sha256: string }>();
      for (const [path, content] of Object.entries(staged)) {
        await mkdir(dirname(join(workspace.staged, path)), { recursive: true });
        await writeFile(join(workspace.staged, path), content);
        files.set(path, { sha256: sha256Buffer(content) });
      }
      const plan = async () =>
        planSwap({
          root,
          workspace,
          changes: planChanges(files, await hashLive(root, files.keys(), [DIR]), [DIR]),
          preserveTo: join(base, 'preserved'),
          preserveBase: DIR,
          stoppedServices: [],
        });
      const journal = await plan();
      expect(
        journal.entries
          .flatMap((e) => [e.staged, e.previous])
          .filter((p) => p !== null && !p.startsWith(`${mounted}/.ark-restore-${workspace.id}.`)),
      ).toEqual([]);

      // Killed mid-swap, rolled back by the next run: exactly as before, no sidecar left.
      const before = await fileTexts(root);
      await new Promise<void>(
        (resolve) =>
          void swapIn(journal, {
            pauseAt: async (at) => (at === 'swap:2' ? (resolve(), await new Promise(() => {})) : undefined),
          }),
      );
      expect(await readdir(mounted)).toContain('new.toml'); // really half swapped
      await settleInterrupted(root, recordingSink(), otherProcess);
      expect(await fileTexts(root)).toEqual(before);
      expect((await readdir(mounted)).sort()).toEqual(['extra.toml', 'zeroia_state.toml']);

      // Done for real this time.
      const again = await createWorkspace(root, { dryRun: false });
      for (const [path, content] of Object.entries(staged)) {
        await mkdir(dirname(join(again.staged, path)), { recursive: true });
        await writeFile(join(again.staged, path), content);
      }
      const journal2 = await planSwap({
        root,
        workspace: again,
        changes: planChanges(files, await hashLive(root, files.keys(), [DIR]), [DIR]),
        preserveTo: join(base, 'preserved'),
        preserveBase: DIR,
        stoppedServices: [],
      });
      const outcome = await preservePrevious(await swapIn(journal2));
      expect(await fileTexts(mounted)).toEqual({ 'new.toml': 'n = 1\n', 'zeroia_state.toml': 'good = true\n' });
      expect(await fileTexts(outcome.preservedAt!)).toEqual({
        'extra.toml': 'extra = 1\n',
        'zeroia_state.toml': '<<<<<<< HEAD\n',
      });
    } finally {
      await sh('umount', [mounted]).catch(() => sh('umount', ['-l', mounted]));
    }
  });
});

describe('swapIn never writes through a link planted in the live tree', () => {
  const SYS = ['modules/zeroia/state/', 'state/sandozia/'];
  const live = {
    'modules/zeroia/state/zeroia_state.toml': 'old = 1\n',
    'state/sandozia/latest_metrics.json': '{"old":1}\n',
  };
  const staged = {
    'modules/zeroia/state/zeroia_state.toml': 'new = 1\n',
    'state/sandozia/latest_metrics.json': '{"new":1}\n',
  };

  /** Replace the live folder `rel` by a link to a folder outside the root holding a file of the same name. */
  async function plant(
    root: string,
    rel: string,
  ): Promise<{ outside: string; contents: () => Promise<Record<string, string>> }> {
    const outside = join(dirname(root), `outside-${rel.replace(/\W/g, '_')}`);
    await mkdir(outside);
    await writeFile(join(outside, 'latest_metrics.json'), 'outside\n');
    await rename(join(root, rel), `${join(root, rel)}.real`);
    await symlink(outside, join(root, rel));
    return { outside, contents: () => fileTexts(outside) };
  }

  it('planted after the plan, before the swap: refused by name (LINK_IN_TREE, exit 3) before any live change, nothing left behind', async () => {
    const s = await scene(live, staged, SYS);
    const before = await fileTexts(s.root);
    const planted = await plant(s.root, 'state/sandozia');
    await expect(swapIn(s.journal)).rejects.toMatchObject({
      code: 'LINK_IN_TREE',
      exitCode: 3,
      message: expect.stringContaining(`state/sandozia -> ${planted.outside}`),
    });
    expect(await planted.contents()).toEqual({ 'latest_metrics.json': 'outside\n' });
    await rm(join(s.root, 'state/sandozia'));
    await rename(join(s.root, 'state/sandozia.real'), join(s.root, 'state/sandozia'));
    expect(await fileTexts(s.root)).toEqual(before); // zeroia's file untouched too: the check came before the first step
    expect(await readJournal(s.root)).toBeNull();
  });

  it('planted mid-swap: the step that would go through it is refused, the steps before are rolled back, nothing written outside', async () => {
    const s = await scene(live, staged, SYS);
    const before = await fileTexts(s.root);
    let planted: Awaited<ReturnType<typeof plant>> | null = null;
    const pauseAt = async (at: string) => {
      if (at === 'swap:1') planted = await plant(s.root, 'state/sandozia'); // zeroia's file is swapped; sandozia's is next
    };
    const error = await swapIn(s.journal, { pauseAt }).catch((e: Error) => e);
    expect(error).toMatchObject({ code: 'LINK_IN_TREE', exitCode: 3 });
    expect(await planted!.contents()).toEqual({ 'latest_metrics.json': 'outside\n' });
    await rm(join(s.root, 'state/sandozia'));
    await rename(join(s.root, 'state/sandozia.real'), join(s.root, 'state/sandozia'));
    expect(await fileTexts(s.root)).toEqual(before); // zeroia's swap was rolled back
  });

  it('a rollback never puts a file back through a link: it names the link and keeps the previous copy', async () => {
    const s = await scene(live, staged, SYS);
    // Killed after both steps; then, before the next run, the folder is replaced by a link.
    await new Promise<void>(
      (resolve) =>
        void swapIn(s.journal, {
          pauseAt: async (at) => (at === 'swap:2' ? (resolve(), await new Promise(() => {})) : undefined),
        }),
    );
    const planted = await plant(s.root, 'state/sandozia');
    const error = await settleInterrupted(s.root, recordingSink(), otherProcess).catch((e: Error) => e);
    expect(error).toMatchObject({ code: expect.stringMatching(/ROLLBACK_FAILED/) });
    expect((error as Error).message).toContain(`not put back: state/sandozia is now a link to ${planted.outside}`);
    expect(await planted.contents()).toEqual({ 'latest_metrics.json': 'outside\n' });
    expect(await readFile(join(s.root, 'modules/zeroia/state/zeroia_state.toml'), 'utf8')).toBe('old = 1\n'); // the other file was put back
  });
});
