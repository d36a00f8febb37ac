import { lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { ArkError } from '../errors.ts';
import { fileTexts, tempDir } from '../testing.ts';
import { hashLive } from './hash-live.ts';
import { planChanges, type FileChange } from './plan-changes.ts';
import { planSwap } from './plan-swap.ts';
import { journalPath, readJournal } from './restore-journal.ts';
import { createWorkspace } from './restore-workspace.ts';
import { copyDurably, swapIn } from './swap-in.ts';

// The swap's rules at the edges: which step an error names, signals, links planted before or
// during the swap, and the copy made where a hard link to the previous file is not allowed.

const faults = vi.hoisted(() => ({
  link: null as ((dst: string) => string | null) | null,
  fsync: null as ((dir: string) => boolean) | null,
  write: null as ((path: string) => Error | null) | null,
}));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const link = async (src: string, dst: string) => {
    const code = faults.link?.(String(dst));
    if (code) throw Object.assign(new Error(`${code}: injected, link '${src}' -> '${dst}'`), { code });
    return real.link(src, dst);
  };
  return { ...real, default: { ...real, link }, link };
});
vi.mock('../state/write-file-atomic.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../state/write-file-atomic.ts')>();
  return {
    ...real,
    fsyncDir: async (dir: string) => {
      if (faults.fsync?.(dir)) throw new Error('injected fsync failure');
      return real.fsyncDir(dir);
    },
    writeFileAtomic: async (path: string, data: string | Buffer, options?: { mode?: number }) => {
      const error = faults.write?.(path);
      if (error) throw error;
      return real.writeFileAtomic(path, data, options);
    },
  };
});

/** A live root, a workspace staging `staged`, and the swap's journal (planned from `changes` when given). */
async function scene(live: Record<string, string>, staged: Record<string, string>, changes?: FileChange[]) {
  const base = await tempDir('ark-swaprules-');
  const root = join(base, 'root');
  await mkdir(root);
  for (const dir of new Set(Object.keys(live).map((path) => dirname(join(root, path)))))
    await mkdir(dir, { recursive: true });
  await Promise.all(Object.entries(live).map(([path, content]) => writeFile(join(root, path), content)));
  const workspace = await createWorkspace(root, { dryRun: false });
  const files = new Map<string, { sha256: string }>();
  for (const [path, content] of Object.entries(staged)) {
    await mkdir(dirname(join(workspace.staged, path)), { recursive: true });
    await writeFile(join(workspace.staged, path), content);
    files.set(path, { sha256: sha256Buffer(content) });
  }
  const planned = changes ?? planChanges(files, await hashLive(root, files.keys(), ['state/']), ['state/']);
  const journal = await planSwap({
    root,
    workspace,
    changes: planned,
    preserveTo: join(base, 'preserved'),
    preserveBase: 'state/',
    stoppedServices: [],
  });
  return { base, root, workspace, journal };
}

/** path → content of every file under dir, but the journal. */
async function tree(dir: string): Promise<Record<string, string>> {
  return Object.fromEntries(
    Object.entries(await fileTexts(dir)).filter(([name]) => !name.endsWith('.ark-restore-journal.json')),
  );
}

/** Files this process still has open below `dir`. */
async function openFilesUnder(dir: string): Promise<string[]> {
  const open: string[] = [];
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(dir)) open.push(target);
  }
  return open;
}

const LIVE = { 'state/a.toml': 'a = 1\n', 'state/gone.toml': 'g = 1\n' };
const STAGED = { 'state/a.toml': 'a = 2\n', 'state/b.toml': 'b = 2\n' };

/** Every file of `live` removed, in path order (as planChanges plans it, without hashing them). */
const removesOf = (live: Record<string, string>): FileChange[] =>
  Object.entries(live)
    .map(([path, content]) => ({
      path,
      action: 'remove' as const,
      currentSha256: sha256Buffer(content),
      backupSha256: null,
    }))
    .sort((x, y) => (x.path < y.path ? -1 : 1));

async function failure(promise: Promise<unknown>): Promise<ArkError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof ArkError)) throw new Error(`expected an ArkError, got ${String(error)}`);
  return error;
}

describe('the step an error names, and what is put back', () => {
  it('a folder it must create cannot be made (a file stands there): fails while preparing, nothing changed', async () => {
    const sha = sha256Buffer('x = 1\n');
    const s = await scene({ blk: 'a file\n' }, { 'blk/x/f.toml': 'x = 1\n' }, [
      { path: 'blk/x/f.toml', action: 'create', currentSha256: null, backupSha256: sha },
    ]);
    expect(s.journal.created_dirs).toEqual(['blk/x']);
    const error = await failure(swapIn(s.journal));
    expect(error.code).toBe('RESTORE_SWAP_FAILED');
    expect(error.message).toMatch(
      /^restore failed \(prepare the swap: ENOTDIR.*; the live files were put back as they were$/,
    );
    expect(await tree(s.root)).toEqual({ blk: 'a file\n' });
    expect(await readJournal(s.root)).toBeNull();
  });

  it('a folder it must create that appeared meanwhile is used as it is', async () => {
    const s = await scene({}, { 'state/new/n.toml': 'n = 1\n' });
    expect(s.journal.created_dirs).toEqual(['state', 'state/new']);
    await mkdir(join(s.root, 'state/new'), { recursive: true });
    expect((await swapIn(s.journal)).state).toBe('committed');
    expect(await tree(s.root)).toEqual({ 'state/new/n.toml': 'n = 1\n' });
  });

  it('a folder that cannot be synced after the last step: rolled back, the step named', async () => {
    const s = await scene(LIVE, STAGED);
    const before = await tree(s.root);
    faults.fsync = (dir) => dir === join(s.root, 'state');
    const error = await failure(swapIn(s.journal)).finally(() => (faults.fsync = null));
    expect(error.message).toBe(
      'restore failed (sync the restored folders: injected fsync failure); the live files were put back as they were',
    );
    expect(await tree(s.root)).toEqual(before);
  });

  it('the commit cannot be written: rolled back, the step named, the cause kept, even for an ArkError', async () => {
    const s = await scene(LIVE, STAGED);
    const before = await tree(s.root);
    const cause = new ArkError('DISK_FULL', 'no space left');
    faults.write = (path) => (path === journalPath(s.root) ? cause : null);
    const error = await failure(swapIn(s.journal)).finally(() => (faults.write = null));
    expect(error).toMatchObject({ code: 'RESTORE_SWAP_FAILED', cause });
    expect(error.message).toBe(
      'restore failed (mark the journal committed: no space left); the live files were put back as they were',
    );
    expect(await tree(s.root)).toEqual(before);
    expect(await readdir(s.base)).toEqual(['root']);
  });

  it('when the rollback fails too: names the step, what was not put back and where the previous files are', async () => {
    const s = await scene(LIVE, STAGED);
    const replaced = s.journal.entries.find((e) => e.action === 'replace')!;
    const last = s.journal.entries.at(-1)!;
    const error = await failure(
      swapIn(s.journal, {
        pauseAt: async (at) => {
          if (at !== `swap:${s.journal.entries.length}`) return;
          for (const entry of s.journal.entries) if (entry.previous) await rm(entry.previous);
          throw new Error('injected');
        },
      }),
    );
    const removed = s.journal.entries.find((e) => e.action === 'remove')!;
    const problems = [
      `state/gone.toml: its previous copy (${removed.previous}) is missing`,
      `state/a.toml: its previous copy (${replaced.previous}) is missing`,
    ];
    expect(error.code).toBe('RESTORE_ROLLBACK_FAILED');
    expect(error.message).toBe(
      `restore failed (${last.action} ${last.path}: injected) and the previous files could not all be put back:\n  ${problems.join('\n  ')}\n` +
        `The previous files are kept in ${s.workspace.previous} and listed in ${journalPath(s.root)}: ` +
        'run the restore again with --resume to retry the rollback, or copy them back by hand.',
    );
    expect(error.details).toEqual({ preservedAt: s.workspace.previous, rollbackFailed: problems });
  });
});

describe('a signal stops the swap between steps and rolls it back', () => {
  const cases: [string, (c: AbortController) => void, string, string][] = [
    ['an Error', (c) => c.abort(new Error('SIGINT received')), 'swap:1', 'SIGINT received'],
    ['a string, after the last step', (c) => c.abort('SIGTERM'), 'swap:3', 'SIGTERM'],
  ];
  it.each(cases)('the reason is %s', async (_, abort, point, why) => {
    const s = await scene(LIVE, STAGED);
    const before = await tree(s.root);
    const controller = new AbortController();
    const error = await failure(
      swapIn(s.journal, {
        signal: controller.signal,
        pauseAt: async (at) => (at === point ? abort(controller) : undefined),
      }),
    );
    expect(error.code).toBe('RESTORE_INTERRUPTED');
    expect(error.message).toBe(
      `restore interrupted during the swap (${why}); the live files were put back as they were`,
    );
    expect(await tree(s.root)).toEqual(before);
    expect(await readdir(s.base)).toEqual(['root']);
  });

  it('no reason given', async () => {
    const s = await scene(LIVE, STAGED);
    const signal = { aborted: true, reason: undefined } as unknown as AbortSignal;
    const error = await failure(swapIn(s.journal, { signal }));
    expect(error.message).toBe(
      'restore interrupted during the swap (aborted); the live files were put back as they were',
    );
  });

  it('a signal delivered by the event loop is seen within 64 steps (the loop runs every 64)', async () => {
    const live = Object.fromEntries(Array.from({ length: 66 }, (_, i) => [`state/f${1000 + i}.toml`, `${i}\n`]));
    const s = await scene(live, {}, removesOf(live)); // nothing staged to make durable: the test stays fast
    const controller = new AbortController();
    const reached: number[] = [];
    const error = await failure(
      swapIn(s.journal, {
        signal: controller.signal,
        pauseAt: async (at) => {
          reached.push(Number(at.slice(5)));
          if (at === 'swap:1') setImmediate(() => controller.abort('SIGTERM'));
        },
      }),
    );
    expect(error.code).toBe('RESTORE_INTERRUPTED');
    expect(Math.max(...reached)).toBe(64);
    expect(await tree(s.root)).toEqual(live);
  });
});

describe('links in the live tree', () => {
  it('planted before the swap above several files: every link named once, in path order, nothing changed', async () => {
    const files = { 'a/f': '1\n', 'a/g': '1\n', 'a-b/f': '1\n', 'a.c/f': '1\n' };
    const s = await scene(files, Object.fromEntries(Object.keys(files).map((p) => [p, '2\n'])));
    for (const dir of ['a', 'a-b', 'a.c']) {
      await rename(join(s.root, dir), join(s.base, `${dir}-outside`));
      await symlink(join(s.base, `${dir}-outside`), join(s.root, dir));
    }
    const error = await failure(swapIn(s.journal));
    expect(error.code).toBe('LINK_IN_TREE');
    const to = (dir: string) => `${dir} -> ${join(s.base, `${dir}-outside`)}`;
    expect(error.message).toContain(
      `3 links stand where the backup has a folder: ${to('a')}, ${to('a-b')}, ${to('a.c')} (in`,
    );
    expect(await tree(join(s.base, 'a-outside'))).toEqual({ f: '1\n', g: '1\n' });
  });

  it('planted mid-swap above a folder already looked at: seen again after 64 steps, never written through', async () => {
    const live: Record<string, string> = { 'b/f1': 'b1\n', 'b/f2': 'b2\n' };
    for (let i = 0; i < 63; i++) live[`a/f${100 + i}`] = `${i}\n`;
    const s = await scene(live, {}, removesOf(live));
    const outside = join(s.base, 'outside');
    const error = await failure(
      swapIn(s.journal, {
        pauseAt: async (at) => {
          if (at !== 'swap:64') return; // a/… done and b/f1 removed: b was looked at; b/f2 is next
          await rename(join(s.root, 'b'), join(s.base, 'b-real'));
          await mkdir(outside);
          await writeFile(join(outside, 'f2'), 'not the restore’s\n');
          await symlink(outside, join(s.root, 'b'));
        },
      }),
    );
    expect(error.message).toContain(`not put back: b is now a link to ${outside}`);
    expect(await tree(outside)).toEqual({ f2: 'not the restore’s\n' });
  });
});

describe('where a hard link to the previous file is not allowed', () => {
  it.each(['EPERM', 'ENOTSUP', 'EMLINK', 'EXDEV'])('%s: the previous file is copied, durably', async (code) => {
    const s = await scene(LIVE, STAGED);
    faults.link = (dst) => (dst.startsWith(s.workspace.previous) ? code : null);
    const committed = await swapIn(s.journal).finally(() => (faults.link = null));
    expect(committed.state).toBe('committed');
    expect(await tree(s.workspace.previous)).toEqual(LIVE);
    expect(await tree(s.root)).toEqual({ 'state/a.toml': 'a = 2\n', 'state/b.toml': 'b = 2\n' });
    expect(await openFilesUnder(s.base)).toEqual([]);
  });

  it('another error is not worked around: the swap fails while preparing, nothing changed', async () => {
    const s = await scene(LIVE, STAGED);
    faults.link = (dst) => (dst.startsWith(s.workspace.previous) ? 'EACCES' : null);
    const error = await failure(swapIn(s.journal)).finally(() => (faults.link = null));
    expect(error.message).toMatch(/^restore failed \(prepare the swap: EACCES: injected/);
    expect(await tree(s.root)).toEqual(LIVE);
  });

  it('a symlink is never copied (that would copy what it points at): the swap fails, the link stays', async () => {
    const s = await scene({}, { 'state/l.toml': 'l = 2\n' });
    await mkdir(join(s.root, 'state'));
    await writeFile(join(s.base, 'target'), 'outside\n');
    await symlink(join(s.base, 'target'), join(s.root, 'state/l.toml'));
    const files = new Map([['state/l.toml', { sha256: sha256Buffer('l = 2\n') }]]);
    const journal = await planSwap({
      ...{ root: s.root, workspace: s.workspace, preserveTo: join(s.base, 'p'), preserveBase: '', stoppedServices: [] },
      changes: planChanges(files, await hashLive(s.root, files.keys(), []), []),
    });
    faults.link = (dst) => (dst.startsWith(s.workspace.previous) ? 'EPERM' : null);
    const error = await failure(swapIn(journal)).finally(() => (faults.link = null));
    expect(error.message).toMatch(/^restore failed \(prepare the swap: EPERM: injected/);
    expect(await readlink(join(s.root, 'state/l.toml'))).toBe(join(s.base, 'target'));
  });
});

describe('copyDurably', () => {
  it('writes the target complete, leaving no temp file and nothing open', async () => {
    const dir = await tempDir('ark-copy-');
    await writeFile(join(dir, 'src'), 'bytes\n');
    await copyDurably(join(dir, 'src'), join(dir, 'sub/dst'));
    expect(await readFile(join(dir, 'sub/dst'), 'utf8')).toBe('bytes\n');
    expect(await readdir(join(dir, 'sub'))).toEqual(['dst']);
    expect(await openFilesUnder(dir)).toEqual([]);
  });

  it('a copy that cannot be put in place leaves no temp file and throws its own error', async () => {
    const dir = await tempDir('ark-copy-');
    await writeFile(join(dir, 'src'), 'bytes\n');
    await mkdir(join(dir, 'dst'));
    await expect(copyDurably(join(dir, 'src'), join(dir, 'dst'))).rejects.toMatchObject({ code: 'EISDIR' });
    expect((await readdir(dir)).sort()).toEqual(['dst', 'src']);
    await expect(copyDurably(join(dir, 'missing'), join(dir, 'x'))).rejects.toThrow(/copyfile/);
    expect((await lstat(join(dir, 'dst'))).isDirectory()).toBe(true);
  });
});
