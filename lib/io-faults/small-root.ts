import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { copyFixture, tempDir } from '../testing.ts';

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

/** A fresh copy of `root` (in its own temp folder, under the same name), timestamps kept. */
export async function copyRoot(root: string): Promise<string> {
  const copy = join(await tempDir('ark-root-'), 'arkalia-luna-pro');
  await cp(root, copy, { recursive: true, preserveTimestamps: true });
  return copy;
}

/** A fresh copy of a folder (a backup folder, say). */
export async function copyDir(dir: string, prefix = 'ark-bk-'): Promise<string> {
  const copy = await tempDir(prefix);
  await cp(dir, copy, { recursive: true, preserveTimestamps: true });
  return copy;
}
