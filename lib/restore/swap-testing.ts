import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sha256Buffer } from '../checksum/index.ts';
import { currentProcess } from '../lock/index.ts';
import { tempDir } from '../testing.ts';
import { hashLive } from './hash-live.ts';
import { planChanges } from './plan-changes.ts';
import { planSwap } from './plan-swap.ts';
import { createWorkspace } from './restore-workspace.ts';

// What the swap's tests share (swap-in.test.ts, swap-in-boundaries.test.ts): a planned swap of
// a small root, and another "process" to settle an interrupted one.

/** The folder the scenes mirror (one module's state). */
export const DIR = 'modules/zeroia/state/';

/** A live root and a workspace whose staging holds "the backup", planned as the pipeline plans it. */
export async function swapScene(live: Record<string, string>, staged: Record<string, string>, mirror = [DIR]) {
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

/** As if the process died there: the swap waits forever at that point, and another "process" settles. */
export const otherProcess = { ...currentProcess(), pid: process.pid + 1, bootId: 'another-boot' };
