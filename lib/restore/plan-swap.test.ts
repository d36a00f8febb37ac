import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { currentProcess } from '../lock/index.ts';
import { tempDir } from '../testing.ts';
import type { FileChange } from './plan-changes.ts';
import { planSwap } from './plan-swap.ts';
import { JOURNAL_FORMAT } from './restore-journal.ts';
import { createWorkspace, type Workspace } from './restore-workspace.ts';

// Folders on another filesystem than the workspace are reached through a link to /dev/shm
// (a tmpfs): stat follows it, as it follows a mount point.
const shm: string[] = [];
afterAll(async () => {
  for (const dir of shm) await rm(dir, { recursive: true, force: true });
});

async function scene(live: Record<string, string> = {}) {
  const base = await tempDir('ark-plan-');
  const root = join(base, 'root');
  await mkdir(root);
  for (const [path, content] of Object.entries(live)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  const workspace = await createWorkspace(root, { dryRun: false });
  return { base, root, workspace };
}

const change = (path: string, action: FileChange['action']): FileChange => ({
  path,
  action,
  currentSha256: action === 'create' ? null : `old-${path}`,
  backupSha256: action === 'remove' ? null : `new-${path}`,
});

const plan = (root: string, workspace: Workspace, changes: FileChange[]) =>
  planSwap({
    root,
    workspace,
    changes,
    preserveTo: '/backup/preserved/x',
    preserveBase: 'state/',
    stoppedServices: ['zeroia'],
    now: () => new Date('2026-03-04T05:06:07.000Z'),
  });

describe('planSwap', () => {
  it('on the workspace filesystem: staged and previous copies in the workspace, unchanged files left out', async () => {
    const s = await scene({ 'state/r': 'r', 'state/d': 'd', 'state/u': 'u' });
    const journal = await plan(s.root, s.workspace, [
      change('state/c', 'create'),
      change('state/d', 'remove'),
      change('state/r', 'replace'),
      change('state/u', 'unchanged'),
    ]);
    const { staged, previous } = s.workspace;
    expect(journal).toEqual({
      format: JOURNAL_FORMAT,
      id: s.workspace.id,
      owner: currentProcess(),
      started_at: '2026-03-04T05:06:07.000Z',
      state: 'swapping',
      root: s.root,
      workspaces: [s.workspace.dir],
      created_dirs: [],
      moved_dirs: [],
      entries: [
        {
          path: 'state/c',
          action: 'create',
          staged: join(staged, 'state/c'),
          previous: null,
          stagedSha256: 'new-state/c',
          previousSha256: null,
        },
        {
          path: 'state/d',
          action: 'remove',
          staged: null,
          previous: join(previous, 'state/d'),
          stagedSha256: null,
          previousSha256: 'old-state/d',
        },
        {
          path: 'state/r',
          action: 'replace',
          staged: join(staged, 'state/r'),
          previous: join(previous, 'state/r'),
          stagedSha256: 'new-state/r',
          previousSha256: 'old-state/r',
        },
      ],
      preserve_to: '/backup/preserved/x',
      preserve_base: 'state/',
      preserved_dir: null,
      stopped_services: ['zeroia'],
    });
  });

  it('on another filesystem, even below a folder still to be created: hidden sidecars beside the file', async () => {
    const s = await scene();
    const elsewhere = await mkdtemp('/dev/shm/ark-plan-');
    shm.push(elsewhere);
    await writeFile(join(elsewhere, 'r'), 'r');
    await symlink(elsewhere, join(s.root, 'mnt'));
    const journal = await plan(s.root, s.workspace, [change('mnt/new/deeper/c', 'create'), change('mnt/r', 'replace')]);
    const side = (dir: string, name: string, suffix: string) =>
      join(s.root, dir, `.ark-restore-${s.workspace.id}.${name}.${suffix}`);
    expect(journal.entries.map((e) => [e.staged, e.previous])).toEqual([
      [side('mnt/new/deeper', 'c', 'new'), null],
      [side('mnt', 'r', 'new'), side('mnt', 'r', 'old')],
    ]);
    expect(journal.created_dirs).toEqual(['mnt/new', 'mnt/new/deeper']);
  });

  it('folders to create: only for created files, each once, parents first, then by name', async () => {
    const s = await scene({ 'keep/x': 'x', 'state/r': 'r' });
    const journal = await plan(s.root, s.workspace, [
      change('a/b/f', 'create'),
      change('a/b/g', 'create'),
      change('keep/new/f', 'create'),
      change('long/f', 'create'),
      change('c/f', 'create'),
      change('gone/r', 'replace'), // its folder vanished since it was hashed: the swap will fail, not create it
      change('gone2/d', 'remove'),
    ]);
    expect(journal.created_dirs).toEqual(['a', 'c', 'long', 'a/b', 'keep/new']);
  });

  it('a file where a folder must be: the folder is to be created (and the swap will fail there)', async () => {
    const s = await scene({ blk: 'a file' });
    const journal = await plan(s.root, s.workspace, [change('blk/x/f', 'create')]);
    expect(journal.created_dirs).toEqual(['blk/x']);
  });

  it('a root that is gone cannot be planned for', async () => {
    const s = await scene();
    await rm(s.root, { recursive: true });
    await expect(plan(s.root, s.workspace, [change('f', 'create')])).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
