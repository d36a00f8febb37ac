import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { recordingSink } from '../events.ts';
import { fileTexts, tempDir } from '../testing.ts';
import { hashLive } from './hash-live.ts';
import { planChanges } from './plan-changes.ts';
import { planSwap } from './plan-swap.ts';
import { readJournal } from './restore-journal.ts';
import { createWorkspace } from './restore-workspace.ts';
import { settleInterrupted } from './settle-interrupted.ts';
import { swapIn } from './swap-in.ts';
import { otherProcess } from './swap-testing.ts';

// A recovery into an empty (or partly empty) root: a folder the swap creates whose whole
// content is staged is renamed into place in one step (moved_dirs), not file by file.

const LIVE = { 'config/keep.toml': 'keep = 1\n' };
const STAGED = {
  'config/new.toml': 'new = 1\n', // into a folder that exists: file by file
  'modules/a/state/x.toml': 'x = 1\n',
  'modules/a/state/y.toml': 'y = 1\n',
  'modules/b/state/z.toml': 'z = 1\n',
  'state/s.toml': 's = 1\n',
};

async function scene(staged: Record<string, string>, extraInStaging: Record<string, string> = {}) {
  const base = await tempDir('ark-moved-');
  const root = join(base, 'root');
  for (const [path, content] of Object.entries(LIVE)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const workspace = await createWorkspace(root, { dryRun: false });
  const files = new Map<string, { sha256: string }>();
  for (const [path, content] of Object.entries({ ...staged, ...extraInStaging })) {
    await mkdir(dirname(join(workspace.staged, path)), { recursive: true });
    await writeFile(join(workspace.staged, path), content);
    if (path in staged) files.set(path, { sha256: sha256Buffer(content) });
  }
  const changes = planChanges(files, await hashLive(root, files.keys(), []), []);
  const journal = await planSwap({
    root,
    workspace,
    changes,
    preserveTo: join(base, 'backup', 'preserved', 'x'),
    preserveBase: '',
    stoppedServices: [],
  });
  return { base, root, workspace, journal };
}

describe('swapIn: created folders moved in whole', () => {
  it('renames each outermost created folder into place: the staged files themselves, nothing left in staging', async () => {
    const s = await scene(STAGED);
    expect(s.journal.moved_dirs).toEqual(['modules', 'state']);
    expect(s.journal.created_dirs).toEqual([
      'modules',
      'state',
      'modules/a',
      'modules/b',
      'modules/a/state',
      'modules/b/state',
    ]);
    const stagedInode = (await stat(join(s.workspace.staged, 'modules/a/state/x.toml'))).ino;
    const committed = await swapIn(s.journal);
    expect(committed.state).toBe('committed');
    const { '.ark-restore-journal.json': _, ...live } = await fileTexts(s.root);
    expect(live).toEqual({ ...LIVE, ...STAGED });
    expect((await stat(join(s.root, 'modules/a/state/x.toml'))).ino).toBe(stagedInode);
    expect(await readdir(s.workspace.staged)).toEqual(['config']); // config/new.toml was linked, then unlinked
    expect(await readdir(join(s.workspace.staged, 'config'))).toEqual([]);
  });

  it('moves nothing whose staging holds more than the swap creates: those folders go file by file', async () => {
    const s = await scene(STAGED, { 'modules/stray.tmp': 'not restored\n' });
    expect(s.journal.moved_dirs).toEqual(['state']);
    await swapIn(s.journal);
    const { '.ark-restore-journal.json': _, ...live } = await fileTexts(s.root);
    expect(live).toEqual({ ...LIVE, ...STAGED });
  });

  it('a file written into the folder it claimed fails the move: rolled back, that file left alone', async () => {
    const s = await scene(STAGED);
    const pauseAt = async (at: string) => {
      if (at === 'swap:0') await writeFile(join(s.root, 'modules', 'intruder.toml'), 'mine = 1\n');
    };
    await expect(swapIn(s.journal, { pauseAt })).rejects.toMatchObject({
      code: 'RESTORE_SWAP_FAILED',
      message: expect.stringMatching(
        /^restore failed \(move in modules\/ \(3 files\): ENOTEMPTY.*put back as they were$/s,
      ),
    });
    expect(await fileTexts(s.root)).toEqual({ ...LIVE, 'modules/intruder.toml': 'mine = 1\n' });
    expect(await readdir(s.base)).toEqual(['root']);
  });

  for (const point of ['swap:0', 'swap:2', 'swap:3', 'swap:4', 'swap:5']) {
    it(`killed at ${point} (before, inside or after a moved folder): the next run rolls back exactly`, async () => {
      const s = await scene(STAGED);
      const before = await fileTexts(s.root);
      await new Promise<void>((resolve) => {
        void swapIn(s.journal, {
          pauseAt: async (at) => {
            if (at !== point) return;
            resolve();
            await new Promise(() => {}); // killed here
          },
        });
      });
      expect((await readJournal(s.root))?.state).toBe('swapping');
      const settled = await settleInterrupted(s.root, recordingSink(), otherProcess);
      expect(settled).toMatchObject({ outcome: 'rolled-back', files: 5 });
      expect(await fileTexts(s.root)).toEqual(before);
      expect((await readdir(s.root)).sort()).toEqual(['config']); // the created folders are gone too
      expect(await readdir(s.base)).toEqual(['root']);
    });
  }
});
