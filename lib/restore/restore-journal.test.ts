import { mkdir, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { currentProcess } from '../lock/index.ts';
import { tempDir } from '../testing.ts';
import {
  createJournal,
  JOURNAL_FORMAT,
  journalPath,
  journalSchema,
  readJournal,
  removeJournal,
  touchedDirs,
  updateJournal,
  type RestoreJournal,
} from './restore-journal.ts';

const faults = vi.hoisted(() => ({
  link: null as (() => string) | null,
  rmOnce: null as string | null,
  fsync: null as ((dir: string) => boolean) | null,
}));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const link = async (src: string, dst: string) => {
    const code = faults.link?.();
    if (code) throw Object.assign(new Error(`${code}: injected`), { code });
    return real.link(src, dst);
  };
  const rm = async (path: string, options?: Parameters<typeof real.rm>[1]) => {
    if (faults.rmOnce !== null && String(path).includes(faults.rmOnce)) {
      faults.rmOnce = null;
      throw Object.assign(new Error('EBUSY: injected'), { code: 'EBUSY' });
    }
    return real.rm(path, options);
  };
  return { ...real, default: { ...real, link, rm }, link, rm };
});
vi.mock('../state/write-file-atomic.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../state/write-file-atomic.ts')>();
  return {
    ...real,
    fsyncDir: async (dir: string) => {
      if (faults.fsync?.(dir)) throw new Error('injected fsync failure');
      return real.fsyncDir(dir);
    },
  };
});

async function journalFor(over: Partial<RestoreJournal> = {}): Promise<RestoreJournal> {
  const base = await tempDir('ark-journal-');
  const root = join(base, 'root');
  await mkdir(root);
  return {
    format: JOURNAL_FORMAT,
    id: '4242-1',
    owner: currentProcess(),
    started_at: '2026-01-01T00:00:00.000Z',
    state: 'swapping',
    root,
    workspaces: [join(base, '.ark-restore-root-4242-1')],
    created_dirs: [],
    entries: [],
    preserve_to: join(base, 'preserved'),
    preserve_base: '',
    preserved_dir: null,
    stopped_services: [],
    ...over,
  };
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

describe('createJournal', () => {
  it('writes it private and complete, and refuses a second one for the same root', async () => {
    const journal = await journalFor();
    await createJournal(journal);
    expect(await readJournal(journal.root)).toEqual(journal);
    expect((await stat(journalPath(journal.root))).mode & 0o777).toBe(0o600);
    const error = await createJournal({ ...journal, id: 'other' }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'RESTORE_IN_PROGRESS',
      message: `${journalPath(journal.root)} exists: another restore of ${journal.root} is swapping files right now. Wait for it to finish (or, if it died, run the restore again with --resume to settle it).`,
    });
    expect(await readJournal(journal.root)).toEqual(journal); // the first one, untouched
    expect(await readdir(journal.root)).toEqual(['.ark-restore-journal.json']); // no temp file left
    expect(await openFilesUnder(journal.root)).toEqual([]);
  });

  it('another link error is passed on as it is, leaving nothing', async () => {
    const journal = await journalFor();
    faults.link = () => 'EPERM';
    const error = await createJournal(journal)
      .catch((e: unknown) => e)
      .finally(() => (faults.link = null));
    expect(error).toMatchObject({ code: 'EPERM', message: 'EPERM: injected' });
    expect(await readdir(journal.root)).toEqual([]);
  });

  it('the temp file is removed even when the first try fails', async () => {
    const journal = await journalFor();
    faults.rmOnce = '.ark-restore-journal.json.tmp-';
    await createJournal(journal).finally(() => (faults.rmOnce = null));
    expect(await readdir(journal.root)).toEqual(['.ark-restore-journal.json']);
  });

  it('when its folder cannot be synced, removes the journal again and throws', async () => {
    const journal = await journalFor();
    faults.fsync = (dir) => dir === journal.root;
    await expect(createJournal(journal).finally(() => (faults.fsync = null))).rejects.toThrow('injected fsync failure');
    expect(await readdir(journal.root)).toEqual([]);
  });
});

describe('updateJournal and removeJournal', () => {
  it('replaces it, still private; removing it twice is fine', async () => {
    const journal = await journalFor();
    await createJournal(journal);
    await updateJournal({ ...journal, state: 'committed' });
    expect((await readJournal(journal.root))?.state).toBe('committed');
    expect((await stat(journalPath(journal.root))).mode & 0o777).toBe(0o600);
    await removeJournal(journal.root);
    await removeJournal(journal.root);
    expect(await readJournal(journal.root)).toBeNull();
  });
});

describe('readJournal', () => {
  it('a journal that cannot be read at all is passed on (not taken for "none")', async () => {
    const journal = await journalFor();
    await mkdir(journalPath(journal.root));
    await expect(readJournal(journal.root)).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('a journal of another root is refused, naming that root', async () => {
    const journal = await journalFor();
    const other = await journalFor();
    await writeFile(journalPath(journal.root), JSON.stringify(other));
    await expect(readJournal(journal.root)).rejects.toMatchObject({
      code: 'RESTORE_JOURNAL_INVALID',
      message: `${journalPath(journal.root)} is left by an interrupted restore but cannot be read (it is for ${other.root}): nothing was changed. Inspect it: it names every file the interrupted swap touched and where the previous copies are.`,
    });
  });

  it('a torn journal is refused without naming a root', async () => {
    const journal = await journalFor();
    await writeFile(journalPath(journal.root), '{"format": "arkalia');
    await expect(readJournal(journal.root)).rejects.toMatchObject({
      code: 'RESTORE_JOURNAL_INVALID',
      message: `${journalPath(journal.root)} is left by an interrupted restore but cannot be read: nothing was changed. Inspect it: it names every file the interrupted swap touched and where the previous copies are.`,
    });
  });

  const entry = { action: 'replace', staged: '/w/s/a', previous: '/w/p/a', stagedSha256: 'x', previousSha256: 'y' };
  it.each([
    ['an absolute entry path', { entries: [{ ...entry, path: '/etc/passwd' }] }, 'must be relative, without ".."'],
    ['an entry path going up', { entries: [{ ...entry, path: 'state/../../x' }] }, 'must be relative, without ".."'],
    ['a created folder going up', { created_dirs: ['..'] }, 'must be relative, without ".."'],
    [
      'a relative staged path',
      { entries: [{ ...entry, path: 'a', staged: 'w/s/a' }] },
      'must be absolute, without ".."',
    ],
    [
      'a staged path going up',
      { entries: [{ ...entry, path: 'a', staged: '/w/../a' }] },
      'must be absolute, without ".."',
    ],
  ])('a journal with %s is refused', async (_, over, issue) => {
    const journal = await journalFor();
    const bad = { ...journal, ...over };
    const parsed = journalSchema.safeParse(bad);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message)).toEqual([issue]);
    await writeFile(journalPath(journal.root), JSON.stringify(bad));
    await expect(readJournal(journal.root)).rejects.toMatchObject({ code: 'RESTORE_JOURNAL_INVALID' });
  });

  it('accepts the paths a swap writes', async () => {
    const journal = await journalFor({
      created_dirs: ['state/new'],
      entries: [{ ...entry, action: 'create', path: 'state/new/a..b', previous: null }],
    });
    expect(journalSchema.safeParse(journal).success).toBe(true);
  });
});

describe('touchedDirs', () => {
  it('every folder whose entries change, once, deepest first', async () => {
    const journal = await journalFor({
      entries: ['f', 'xyz/f', 'xyz/g', 'a/bb/c/f'].map((path) => ({
        path,
        action: 'remove' as const,
        staged: null,
        previous: `/w/${path}`,
        stagedSha256: null,
        previousSha256: 'y',
      })),
      created_dirs: ['a/bb'],
    });
    const { root } = journal;
    expect(touchedDirs(journal)).toEqual([join(root, 'a/bb/c'), join(root, 'xyz'), join(root, 'a'), root]);
  });
});
