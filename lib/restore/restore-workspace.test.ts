import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import { createWorkspace, sweepStaleWorkspaces } from './restore-workspace.ts';

const made: string[] = [];
afterAll(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

async function rootIn(name = 'root'): Promise<{ base: string; root: string }> {
  const base = await tempDir('ark-workspace-');
  const root = join(base, name);
  await mkdir(root);
  return { base, root };
}

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('createWorkspace', () => {
  it('beside the root, private, named after the root and the process', async () => {
    const { base, root } = await rootIn();
    const ws = await createWorkspace(root, { dryRun: false, pid: 4242 });
    expect(ws.id).toMatch(/^4242-\d{13}$/);
    expect(ws).toEqual({
      id: ws.id,
      dir: join(base, `.ark-restore-root-${ws.id}`),
      staged: join(base, `.ark-restore-root-${ws.id}`, 'staged'),
      previous: join(base, `.ark-restore-root-${ws.id}`, 'previous'),
    });
    expect(await mode(ws.dir)).toBe(0o700);
    expect((await createWorkspace(root, { dryRun: false })).id).toMatch(new RegExp(`^${process.pid}-\\d+$`));
  });

  it('inside the root when beside it is another filesystem, leaving nothing beside', async () => {
    const { base } = await rootIn();
    const elsewhere = await mkdtemp('/dev/shm/ark-workspace-');
    made.push(elsewhere);
    const root = join(base, 'linked-root');
    await symlink(elsewhere, root);
    const ws = await createWorkspace(root, { dryRun: false, pid: 4242 });
    expect(ws.dir).toBe(join(root, `.ark-restore-${ws.id}`));
    expect(await mode(ws.dir)).toBe(0o700);
    expect((await readdir(base)).sort()).toEqual(['linked-root', 'root']);
  });

  it('a dry run stages in the temp folder', async () => {
    const { root } = await rootIn();
    const ws = await createWorkspace(root, { dryRun: true, pid: 4242 });
    made.push(ws.dir);
    expect(ws.dir.startsWith(join(tmpdir(), `ark-restore-${ws.id}-`))).toBe(true);
    expect(ws.staged).toBe(join(ws.dir, 'staged'));
  });
});

describe('sweepStaleWorkspaces', () => {
  it('removes the workspaces of dead processes, beside and inside the root, and nothing else', async () => {
    const { base, root } = await rootIn('r.d');
    const names = {
      deadBeside: '.ark-restore-r.d-101-1700000000000',
      liveBeside: '.ark-restore-r.d-202-1700000000000',
      otherRoot: '.ark-restore-rXd-101-1700000000000',
      notOurs: '.ark-restore-r.d-x-1',
    };
    for (const name of Object.values(names)) await mkdir(join(base, name, 'staged'), { recursive: true });
    await writeFile(join(base, names.deadBeside, 'staged', 'f'), 'x');
    await mkdir(join(root, '.ark-restore-101-1700000000000/staged'), { recursive: true });
    await mkdir(join(root, '.ark-restore-202-1700000000000'));
    await mkdir(join(root, 'state'));
    const removed = await sweepStaleWorkspaces(root, (pid) => pid === 202);
    expect(removed.sort()).toEqual([join(base, names.deadBeside), join(root, '.ark-restore-101-1700000000000')]);
    expect((await readdir(base)).sort()).toEqual([names.liveBeside, names.notOurs, names.otherRoot, 'r.d'].sort());
    expect((await readdir(root)).sort()).toEqual(['.ark-restore-202-1700000000000', 'state']);
  });

  it('a root that is gone: its workspaces beside it are still swept', async () => {
    const { base, root } = await rootIn();
    await mkdir(join(base, '.ark-restore-root-101-1'));
    await rm(root, { recursive: true });
    expect(await sweepStaleWorkspaces(root, () => false)).toEqual([join(base, '.ark-restore-root-101-1')]);
  });
});
