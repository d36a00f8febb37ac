import { link, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { currentProcess } from '../lock/index.ts';
import { fileTexts, tempDir } from '../testing.ts';
import {
  createJournal,
  JOURNAL_FORMAT,
  readJournal,
  type JournalEntry,
  type RestoreJournal,
} from './restore-journal.ts';
import { discardWork, rollBack } from './roll-back.ts';

// Rollbacks of journals as a killed swap leaves them: each entry in whatever state the swap
// reached, checked against what is on disk.

async function scene() {
  const base = await tempDir('ark-rollback-');
  const root = join(base, 'root');
  const workspace = join(base, '.ark-restore-root-4242-1');
  await mkdir(root);
  await mkdir(workspace);
  const put = async (path: string, content: string) => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  };
  const entry = (path: string, action: JournalEntry['action'], old: string | null, now: string | null) => ({
    path,
    action,
    staged: action === 'remove' ? null : join(workspace, 'staged', path),
    previous: action === 'create' ? null : join(workspace, 'previous', path),
    stagedSha256: now === null ? null : sha256Buffer(now),
    previousSha256: old === null ? null : sha256Buffer(old),
  });
  const journal = (entries: JournalEntry[], created_dirs: string[] = []): RestoreJournal => ({
    format: JOURNAL_FORMAT,
    id: '4242-1',
    owner: currentProcess(),
    started_at: '2026-01-01T00:00:00.000Z',
    state: 'swapping',
    root,
    workspaces: [workspace],
    created_dirs,
    entries,
    preserve_to: join(base, 'preserved'),
    preserve_base: '',
    preserved_dir: null,
    stopped_services: [],
  });
  return { base, root, workspace, put, entry, journal, live: (path: string) => join(root, path) };
}

describe('rollBack', () => {
  it('undoes every kind of step from what is on disk, and leaves alone what others wrote since', async () => {
    const s = await scene();
    const entries = [
      s.entry('n/m/f', 'create', null, 'f = 2\n'),
      s.entry('state/c', 'create', null, 'c = 2\n'),
      s.entry('state/c2', 'create', null, 'c2 = 2\n'),
      s.entry('state/d', 'remove', 'd = 1\n', null),
      s.entry('state/r', 'replace', 'r = 1\n', 'r = 2\n'),
    ];
    await s.put(s.live('n/m/f'), 'f = 2\n'); // created by the swap
    await s.put(s.live('state/c'), 'c = 2\n'); // created by the swap
    await s.put(s.live('state/c2'), 'written by someone else\n'); // not the swap's
    await s.put(join(s.workspace, 'previous/state/d'), 'd = 1\n'); // removed by the swap
    await s.put(join(s.workspace, 'previous/state/r'), 'r = 1\n'); // replaced by the swap
    await s.put(s.live('state/r'), 'r = 2\n');
    await s.put(s.live('o/other'), 'someone else\n'); // in a folder the swap created
    const journal = s.journal(entries, ['n', 'n/m', 'o']);
    await createJournal(journal);
    expect(await rollBack(journal)).toEqual([]);
    expect(await fileTexts(s.root)).toEqual({
      'o/other': 'someone else\n',
      'state/c2': 'written by someone else\n',
      'state/d': 'd = 1\n',
      'state/r': 'r = 1\n',
    });
    expect((await readdir(s.root)).sort()).toEqual(['o', 'state']); // n/m and n removed, o kept
    expect(await readdir(s.base)).toEqual(['root']); // the workspace is gone
    expect(await readJournal(s.root)).toBeNull();
  });

  it('a file it removed that was written again since: left as written, and its previous copy kept and named', async () => {
    const s = await scene();
    const entries = [
      s.entry('state/d2', 'remove', 'd2 = 1\n', null),
      s.entry('state/d3', 'remove', 'd3 = 1\n', null),
      s.entry('state/d4', 'remove', 'd4 = 1\n', null),
    ];
    await s.put(join(s.workspace, 'previous/state/d2'), 'd2 = 1\n');
    await s.put(s.live('state/d2'), 'written since\n'); // removed by the swap, then written again
    await s.put(s.live('state/d3'), 'd3 = 1\n'); // never reached: its previous copy is a link to it
    await mkdir(join(s.workspace, 'previous/state'), { recursive: true });
    await link(s.live('state/d3'), join(s.workspace, 'previous/state/d3'));
    await s.put(s.live('state/d4'), 'd4 = 1\n'); // never reached: its previous copy is a copy (another filesystem)
    await s.put(join(s.workspace, 'previous/state/d4'), 'd4 = 1\n');
    const journal = s.journal(entries);
    await createJournal(journal);
    expect(await rollBack(journal)).toEqual([
      `state/d2: not put back: it was written again after the restore began (its previous copy is kept at ${join(s.workspace, 'previous/state/d2')})`,
    ]);
    expect(await fileTexts(s.root)).toEqual({
      'state/d2': 'written since\n',
      'state/d3': 'd3 = 1\n',
      'state/d4': 'd4 = 1\n',
      '.ark-restore-journal.json': expect.any(String), // kept: the next run says the same
    });
    expect(await readFile(join(s.workspace, 'previous/state/d2'), 'utf8')).toBe('d2 = 1\n');
    expect(await readJournal(s.root)).not.toBeNull();
  });

  it('names every file it cannot put back, newest first, and keeps the journal and the workspace', async () => {
    const s = await scene();
    const entries = [
      s.entry('a/lost-remove', 'remove', 'x = 1\n', null),
      s.entry('a/lost-replace', 'replace', 'x = 1\n', 'x = 2\n'),
      s.entry('a/untouched-remove', 'remove', 'u = 1\n', null),
      s.entry('a/untouched-replace', 'replace', 'v = 1\n', 'v = 2\n'),
      s.entry('a/vanished-replace', 'replace', 'w = 1\n', 'w = 2\n'),
    ];
    await s.put(s.live('a/lost-replace'), 'x = 2\n'); // the new bytes are live, the previous copy is gone
    await s.put(s.live('a/untouched-remove'), 'u = 1\n'); // prepare never got there
    await s.put(s.live('a/untouched-replace'), 'v = 1\n');
    const journal = s.journal(entries);
    await createJournal(journal);
    expect(await rollBack(journal)).toEqual([
      `a/lost-replace: its previous copy (${join(s.workspace, 'previous/a/lost-replace')}) is missing`,
      `a/lost-remove: its previous copy (${join(s.workspace, 'previous/a/lost-remove')}) is missing`,
    ]);
    expect(await readJournal(s.root)).toEqual(journal);
    expect(await readdir(s.base)).toContain('.ark-restore-root-4242-1');
  });

  it('never puts a file back through a link: names the link and the previous copy', async () => {
    const s = await scene();
    const outside = join(s.base, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'c'), 'c = 2\n');
    await symlink(outside, s.live('l'));
    await s.put(join(s.workspace, 'previous/l/r'), 'r = 1\n');
    const journal = s.journal([
      s.entry('l/c', 'create', null, 'c = 2\n'),
      s.entry('l/r', 'replace', 'r = 1\n', 'r = 2\n'),
    ]);
    const why = 'a restore never writes through a link';
    expect(await rollBack(journal)).toEqual([
      `l/r: not put back: l is now a link to ${outside} (${why}; its previous copy is ${join(s.workspace, 'previous/l/r')})`,
      `l/c: not put back: l is now a link to ${outside} (${why}; its previous copy is none)`,
    ]);
    expect(await fileTexts(outside)).toEqual({ c: 'c = 2\n' });
  });
});

describe('discardWork', () => {
  it('removes sidecars beside live files, but never through a link, then every workspace and the journal', async () => {
    const s = await scene();
    const outside = join(s.base, 'outside');
    const sidecar = (dir: string, name: string, suffix: string) => join(dir, `.ark-restore-4242-1.${name}.${suffix}`);
    await mkdir(outside);
    await writeFile(sidecar(outside, 'f', 'new'), 'not ours to remove\n');
    await symlink(outside, s.live('l'));
    await s.put(sidecar(s.live('m'), 'f', 'new'), 'new\n');
    await s.put(sidecar(s.live('m'), 'f', 'old'), 'old\n');
    await s.put(join(s.workspace, 'staged/x/y'), 'staged\n');
    const entries = [
      { ...s.entry('l/f', 'create', null, 'n'), staged: sidecar(s.live('l'), 'f', 'new') },
      {
        ...s.entry('m/f', 'replace', 'o', 'n'),
        staged: sidecar(s.live('m'), 'f', 'new'),
        previous: sidecar(s.live('m'), 'f', 'old'),
      },
      s.entry('x/y', 'create', null, 'n'),
    ];
    const journal = { ...s.journal(entries), workspaces: [s.workspace, join(s.base, 'never-made')] };
    await createJournal(journal);
    await discardWork(journal);
    expect(await readdir(s.live('m'))).toEqual([]);
    expect(await fileTexts(outside)).toEqual({ '.ark-restore-4242-1.f.new': 'not ours to remove\n' });
    expect(await readdir(s.base)).toEqual(['outside', 'root']);
    expect(await readJournal(s.root)).toBeNull();
  });
});
