import { mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { recordingSink } from '../events.ts';
import { fileTexts, tempDir } from '../testing.ts';
import { hashLive } from './hash-live.ts';
import { planChanges } from './plan-changes.ts';
import { planSwap } from './plan-swap.ts';
import { preservePrevious } from './preserve-previous.ts';
import { readJournal } from './restore-journal.ts';
import { createWorkspace } from './restore-workspace.ts';
import { settleInterrupted } from './settle-interrupted.ts';
import { swapIn } from './swap-in.ts';
import { DIR, otherProcess, swapScene as scene } from './swap-testing.ts';

// The swap where the live tree crosses a boundary: a folder on another file system inside the
// root (sidecars, not renames across it), and a link planted in the tree (never written through).

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
