import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { currentProcess } from '../lock/index.ts';
import { fileTexts, tempDir } from '../testing.ts';
import { makeFreshDir, preservePrevious } from './preserve-previous.ts';
import { createJournal, JOURNAL_FORMAT, readJournal, type RestoreJournal } from './restore-journal.ts';

// A disk error on one path, once: rename (moving a previous file) or mkdir (a fresh folder).
const faults = vi.hoisted(() => ({ rename: null as string | null, mkdir: null as string | null }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const eio = () => Object.assign(new Error('EIO: injected'), { code: 'EIO' });
  const rename = async (from: string, to: string) => {
    if (from === faults.rename) throw ((faults.rename = null), eio());
    return real.rename(from, to);
  };
  const mkdir = (async (path: string, options?: Parameters<typeof real.mkdir>[1]) => {
    if (path === faults.mkdir) throw ((faults.mkdir = null), eio());
    return real.mkdir(path, options);
  }) as typeof real.mkdir;
  return { ...real, default: { ...real, rename, mkdir }, rename, mkdir };
});

const shm: string[] = [];
afterAll(async () => {
  for (const dir of shm) await rm(dir, { recursive: true, force: true });
});

/** A committed journal whose previous files (path → content) sit in the workspace; `creates` had none. */
async function committed(previous: Record<string, string>, creates: string[] = [], over: Partial<RestoreJournal> = {}) {
  const base = await tempDir('ark-preserve-');
  const root = join(base, 'root');
  const workspace = join(base, '.ark-restore-root-4242-1');
  await mkdir(root);
  await mkdir(join(workspace, 'staged'), { recursive: true });
  const entries: RestoreJournal['entries'] = creates.map((path) => ({
    path,
    action: 'create',
    staged: join(workspace, 'staged', path),
    previous: null,
    stagedSha256: 'n',
    previousSha256: null,
  }));
  for (const [path, content] of Object.entries(previous)) {
    const at = join(workspace, 'previous', path);
    await mkdir(dirname(at), { recursive: true });
    await writeFile(at, content);
    entries.push({
      path,
      action: 'replace',
      staged: join(workspace, 'staged', path),
      previous: at,
      stagedSha256: 'n',
      previousSha256: 'o',
    });
  }
  const journal: RestoreJournal = {
    format: JOURNAL_FORMAT,
    id: '4242-1',
    owner: currentProcess(),
    started_at: '2026-01-01T00:00:00.000Z',
    state: 'committed',
    root,
    workspaces: [workspace],
    created_dirs: [],
    entries,
    preserve_to: join(base, 'backup/preserved/zeroia_state_x'),
    preserve_base: 'state/',
    preserved_dir: null,
    stopped_services: [],
    ...over,
  };
  await createJournal(journal);
  return { base, root, workspace, journal };
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('preservePrevious', () => {
  it('moves the previous files to a fresh private folder, below the base, then removes the workspace and the journal', async () => {
    const s = await committed({ 'state/a/r': 'r = 1\n', 'other/x': 'x = 1\n' }, ['state/c']);
    const outcome = await preservePrevious(s.journal);
    expect(outcome).toEqual({ preservedAt: s.journal.preserve_to, keptAt: null, problem: null });
    expect(await fileTexts(s.journal.preserve_to)).toEqual({ 'a/r': 'r = 1\n', 'other/x': 'x = 1\n' });
    expect(await mode(s.journal.preserve_to)).toBe(0o700);
    expect(await mode(join(s.journal.preserve_to, 'a'))).toBe(0o700);
    expect(await readdir(s.base)).toEqual(['backup', 'root']);
    expect(await readJournal(s.root)).toBeNull();
  });

  it('nothing was replaced or removed: no folder is made, the work is removed', async () => {
    const s = await committed({}, ['state/c']);
    expect(await preservePrevious(s.journal)).toEqual({ preservedAt: null, keptAt: null, problem: null });
    expect(await readdir(s.base)).toEqual(['root']);
    expect(await readJournal(s.root)).toBeNull();
  });

  it('finishes a run killed midway: into the folder it had made, skipping what it had moved', async () => {
    const s = await committed({ 'state/a': 'a = 1\n', 'state/b': 'b = 1\n' });
    const made = join(s.base, 'backup/preserved/zeroia_state_x-2');
    await mkdir(made, { recursive: true });
    await mkdir(s.journal.preserve_to); // an earlier restore's, not this one's
    await rm(s.journal.entries[0]!.previous!);
    await writeFile(join(made, 'a'), 'a = 1\n'); // moved before the kill
    const outcome = await preservePrevious({ ...s.journal, preserved_dir: made });
    expect(outcome).toEqual({ preservedAt: made, keptAt: null, problem: null });
    expect(await fileTexts(made)).toEqual({ a: 'a = 1\n', b: 'b = 1\n' });
    expect(await readdir(s.journal.preserve_to)).toEqual([]);
    expect(await readdir(join(s.base, 'backup/preserved'))).toEqual(['zeroia_state_x', 'zeroia_state_x-2']);
  });

  it('the backup folder cannot take them: they are kept beside the workspace, named, and the restore stands', async () => {
    const s = await committed({ 'state/a': 'a = 1\n' });
    await writeFile(join(s.base, 'backup'), 'a file where the backup folder should be');
    const outcome = await preservePrevious(s.journal);
    const keptAt = join(s.base, 'ark-preserved-4242-1');
    expect(outcome).toMatchObject({ preservedAt: null, keptAt, problem: expect.stringContaining('ENOTDIR') });
    expect(await fileTexts(keptAt)).toEqual({ 'state/a': 'a = 1\n' });
    expect(await readJournal(s.root)).toBeNull();
    expect((await readdir(s.base)).sort()).toEqual(['ark-preserved-4242-1', 'backup', 'root']);
  });

  it('a disk error moving a file is not worked around by copying: they are kept beside the workspace', async () => {
    const s = await committed({ 'state/a': 'a = 1\n' });
    faults.rename = s.journal.entries[0]!.previous;
    const outcome = await preservePrevious(s.journal);
    expect(outcome).toEqual({
      preservedAt: null,
      keptAt: join(s.base, 'ark-preserved-4242-1'),
      problem: 'EIO: injected',
    });
    expect(await fileTexts(join(s.base, 'ark-preserved-4242-1'))).toEqual({ 'state/a': 'a = 1\n' });
  });

  it('a backup folder on another filesystem: the files are copied there, then removed', async () => {
    const elsewhere = await mkdtemp('/dev/shm/ark-preserve-');
    shm.push(elsewhere);
    const s = await committed({ 'state/a': 'a = 1\n' }, [], { preserve_to: join(elsewhere, 'preserved/x') });
    const outcome = await preservePrevious(s.journal);
    expect(outcome).toEqual({ preservedAt: join(elsewhere, 'preserved/x'), keptAt: null, problem: null });
    expect(await fileTexts(join(elsewhere, 'preserved/x'))).toEqual({ a: 'a = 1\n' });
    expect(await readdir(s.base)).toEqual(['root']);
  });
});

describe('makeFreshDir', () => {
  it('never reuses a folder: wanted, then wanted-2, wanted-3, all private', async () => {
    const wanted = join(await tempDir('ark-fresh-'), 'deep/preserved/x');
    expect(await makeFreshDir(wanted)).toBe(wanted);
    expect(await makeFreshDir(wanted)).toBe(`${wanted}-2`);
    expect(await makeFreshDir(wanted)).toBe(`${wanted}-3`);
    expect(await mode(`${wanted}-3`)).toBe(0o700);
    expect(await mode(dirname(wanted))).toBe(0o700);
  });

  it('a disk error is not taken for a name in use', async () => {
    const wanted = join(await tempDir('ark-fresh-'), 'x');
    await mkdir(wanted);
    faults.mkdir = `${wanted}-2`;
    await expect(makeFreshDir(wanted)).rejects.toMatchObject({ code: 'EIO' });
    expect(await readdir(dirname(wanted))).toEqual(['x']);
  });

  it('gives up after 100 names', async () => {
    const wanted = join(await tempDir('ark-fresh-'), 'x');
    await mkdir(wanted);
    for (let n = 2; n <= 100; n++) await mkdir(`${wanted}-${n}`);
    await expect(makeFreshDir(wanted)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readdir(dirname(wanted))).not.toContain('x-101');
  });
});
