import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { ArkError } from '../errors.ts';
import { tempDir, treeContents } from '../testing.ts';
import { planChanges, type FileChange } from './plan-changes.ts';
import { hashTree, preserveTree, swapIn } from './swap-in.ts';

const PREFIX = 'modules/zeroia/state/';

/** A live state folder, a staged copy from "the backup", and a place to preserve into. */
async function scene(live: Record<string, string>, staged: Record<string, string>) {
  const base = await tempDir('ark-swap-');
  const liveDir = join(base, 'root', PREFIX);
  const stagedDir = join(base, 'staging', PREFIX);
  for (const [dir, files] of [[liveDir, live], [stagedDir, staged]] as const) {
    await mkdir(dir, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
      await mkdir(join(dir, name, '..'), { recursive: true });
      await writeFile(join(dir, name), content);
    }
  }
  const stagedFiles = [...(await hashTree(stagedDir))].map(([name, sha256]) => ({ name, sha256 }));
  return { base, liveDir, stagedDir, stagedFiles, preserveDir: join(base, 'backup', 'preserved', 'zeroia_state_x') };
}

/** Preserve the live folder, then swap, exactly as the pipeline does. */
async function preserveAndSwap(s: Awaited<ReturnType<typeof scene>>, changes?: FileChange[]) {
  const current = await hashTree(s.liveDir);
  const preserveDir = await preserveTree(s.liveDir, [...current.keys()], s.preserveDir);
  await swapIn({ liveDir: s.liveDir, stagedDir: s.stagedDir, prefix: PREFIX, changes: changes ?? planChanges(PREFIX, s.stagedFiles, current), preserveDir, preserved: [...current.keys()] });
}

async function leftovers(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).filter((n) => n.includes('.ark-restore'));
}

describe('planChanges', () => {
  it('classifies every file as replace, create, remove or unchanged, sorted by path', () => {
    const live = new Map([['a.toml', 'old-a'], ['b.toml', 'same'], ['gone.toml', 'g']]);
    const changes = planChanges(PREFIX, [{ name: 'a.toml', sha256: 'new-a' }, { name: 'b.toml', sha256: 'same' }, { name: 'c.toml', sha256: 'c' }], live);
    expect(changes.map((c) => [c.path, c.action, c.currentSha256, c.backupSha256])).toEqual([
      [`${PREFIX}a.toml`, 'replace', 'old-a', 'new-a'],
      [`${PREFIX}b.toml`, 'unchanged', 'same', 'same'],
      [`${PREFIX}c.toml`, 'create', null, 'c'],
      [`${PREFIX}gone.toml`, 'remove', 'g', null],
    ]);
  });
});

describe('preserveTree', () => {
  it('copies the live files into a fresh folder and never reuses one', async () => {
    const s = await scene({ 'zeroia_state.toml': '<<<<<<< HEAD', 'sub/x.json': '{}' }, {});
    const first = await preserveTree(s.liveDir, ['sub/x.json', 'zeroia_state.toml'], s.preserveDir);
    expect(first).toBe(s.preserveDir);
    expect(Object.fromEntries([...(await treeContents(first))].map(([k, v]) => [k, v.toString()]))).toEqual({ 'sub/x.json': '{}', 'zeroia_state.toml': '<<<<<<< HEAD' });
    await writeFile(join(s.liveDir, 'zeroia_state.toml'), 'second = 1\n');
    const second = await preserveTree(s.liveDir, ['zeroia_state.toml'], s.preserveDir);
    expect(second).toBe(`${s.preserveDir}-2`);
    expect(await readFile(join(first, 'zeroia_state.toml'), 'utf8')).toBe('<<<<<<< HEAD'); // the first copy is untouched
  });
});

describe('swapIn', () => {
  it('replaces, creates and removes files in place, leaving unchanged files and the folder itself alone', async () => {
    const s = await scene(
      { 'zeroia_state.toml': '<<<<<<< HEAD\n', 'zeroia_decision_log.toml': 'same = 1\n', 'extra.toml': 'x = 1\n' },
      { 'zeroia_state.toml': 'good = true\n', 'zeroia_decision_log.toml': 'same = 1\n', 'new/nested.toml': 'n = 1\n' },
    );
    const folder = (await stat(s.liveDir)).ino;
    const unchangedInode = (await stat(join(s.liveDir, 'zeroia_decision_log.toml'))).ino;
    await preserveAndSwap(s);
    expect(Object.fromEntries([...(await treeContents(s.liveDir))].map(([k, v]) => [k, v.toString()]))).toEqual({
      'new/nested.toml': 'n = 1\n',
      'zeroia_decision_log.toml': 'same = 1\n',
      'zeroia_state.toml': 'good = true\n',
    });
    expect((await stat(s.liveDir)).ino).toBe(folder); // a bind mount of the folder keeps working
    expect((await stat(join(s.liveDir, 'zeroia_decision_log.toml'))).ino).toBe(unchangedInode);
    expect(await leftovers(s.base)).toEqual([]);
  });

  it('rolls back when a step fails midway (a folder where a file must go): the live files are exactly as before', async () => {
    // Sorted steps: remove aaa_extra.toml, replace zeroia_decision_log.toml, then create
    // zeroia_state.toml fails because a non-empty folder has that name.
    const s = await scene(
      { 'aaa_extra.toml': 'extra = 1\n', 'zeroia_decision_log.toml': 'corrupted {[}', 'zeroia_state.toml/inner.toml': 'odd = 1\n' },
      { 'zeroia_decision_log.toml': 'log = []\n', 'zeroia_state.toml': 'good = true\n' },
    );
    const before = await treeContents(s.liveDir);
    const error = await preserveAndSwap(s).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArkError);
    expect(error).toMatchObject({ code: 'RESTORE_SWAP_FAILED', exitCode: 1 });
    expect((error as Error).message).toMatch(/create modules\/zeroia\/state\/zeroia_state\.toml: .*the live files were put back as they were/);
    expect(await treeContents(s.liveDir)).toEqual(before);
    expect(await leftovers(s.base)).toEqual([]);
  });

  it('undoes every kind of applied step when an injected last step fails', async () => {
    const s = await scene({ 'a.toml': 'old-a', 'b.toml': 'old-b' }, { 'a.toml': 'new-a', 'c.toml': 'new-c' });
    const before = await treeContents(s.liveDir);
    const change = (path: string, action: FileChange['action'], current: string | null, backup: string | null): FileChange => ({
      path: `${PREFIX}${path}`,
      action,
      currentSha256: current && sha256Buffer(current),
      backupSha256: backup && sha256Buffer(backup),
    });
    const changes = [change('a.toml', 'replace', 'old-a', 'new-a'), change('b.toml', 'remove', 'old-b', null), change('c.toml', 'create', null, 'new-c'), change('ghost.toml', 'remove', 'g', null)];
    await expect(preserveAndSwap(s, changes)).rejects.toMatchObject({ code: 'RESTORE_SWAP_FAILED', message: expect.stringContaining('remove modules/zeroia/state/ghost.toml: ENOENT') });
    expect(await treeContents(s.liveDir)).toEqual(before);
  });

  it('says so, and where the preserved copy is, when the rollback itself cannot put a file back', async () => {
    const s = await scene({ 'a.toml': 'old-a', 'zeroia_state.toml/inner.toml': 'x' }, { 'a.toml': 'new-a', 'zeroia_state.toml': 'good = true\n' });
    const current = await hashTree(s.liveDir);
    const preserveDir = await preserveTree(s.liveDir, [...current.keys()], s.preserveDir);
    await rm(join(preserveDir, 'a.toml')); // the preserved copy is gone (disk trouble)
    const error = await swapIn({ liveDir: s.liveDir, stagedDir: s.stagedDir, prefix: PREFIX, changes: planChanges(PREFIX, s.stagedFiles, current), preserveDir, preserved: [...current.keys()] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RESTORE_ROLLBACK_FAILED', exitCode: 1, details: { preservedAt: preserveDir } });
    expect((error as Error).message).toMatch(/could not all be put back:\n {2}modules\/zeroia\/state\/a\.toml: ENOENT[\s\S]*copy them back by hand/);
  });
});
