import { cp, mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { copyFixture } from '../testing.ts';

// The sweeps' world: the sample root cut down to one of everything a restore and a backup
// handle (module state, a global state, a snapshot, a config, a secret .env, the compose
// file, a state the backup records as invalid), so that every code path is still taken
// with as few file-system calls as possible: a sweep runs the operation once per call.

const DROPPED = [
  'logs',
  'modules/assistantia',
  'modules/sandozia',
  'modules/taskia',
  'modules/reflexia',
  'modules/cognitive_reactor',
  'state/chronalia',
  'state/sandozia',
  'state/zeroia_dashboard.json',
  'state/cognitive_pause_active.marker',
  'state/arkalia_master_state.toml',
  'state/reflexia_state.toml',
  'config/arkalia_score.toml',
];

/** A copy of the sample root with only what DROPPED leaves. */
export async function smallRoot(): Promise<string> {
  const root = await copyFixture();
  for (const path of DROPPED) await rm(join(root, path), { recursive: true, force: true });
  return root;
}

/**
 * Where a sweep's worlds go: /dev/shm (a tmpfs: a thousand copies of a small tree cost far
 * less there than on a journaled disk) when it has room, else $TMPDIR. Each world is removed
 * after its run (runSweep's teardown).
 */
let base: Promise<string> | undefined;
function sweepBase(): Promise<string> {
  base ??= statfs('/dev/shm').then(
    (s) => (s.bavail * s.bsize > 512 * 1024 * 1024 ? '/dev/shm' : tmpdir()),
    () => tmpdir(),
  );
  return base;
}

/** A fresh copy of `root` (in its own temp folder, under the same name), timestamps kept. */
export async function copyRoot(root: string): Promise<string> {
  const copy = join(await mkdtemp(join(await sweepBase(), 'ark-sweep-root-')), 'arkalia-luna-pro');
  await cp(root, copy, { recursive: true, preserveTimestamps: true });
  return copy;
}

/** A fresh copy of a folder (a backup folder, say). */
export async function copyDir(dir: string): Promise<string> {
  const copy = await mkdtemp(join(await sweepBase(), 'ark-sweep-dir-'));
  await cp(dir, copy, { recursive: true, preserveTimestamps: true });
  return copy;
}

/** Remove what copyRoot and copyDir made (a root's temp folder, or a copied folder). */
export async function removeCopies(...paths: string[]): Promise<void> {
  for (const path of paths) {
    const dir = path.endsWith('/arkalia-luna-pro') ? dirname(path) : path;
    await rm(dir, { recursive: true, force: true });
  }
}
