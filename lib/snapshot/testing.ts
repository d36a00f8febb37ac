// Test helpers for snapshot tests (not used by production code).
import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../testing.ts';

const run = promisify(execFile);

/** A clock that stands still until moved: `at()` is now, `tick(ms)` moves it. */
export function manualClock(start = new Date(2026, 2, 15, 12, 0, 0)) {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    tick: (ms: number) => {
      t += ms;
    },
  };
}

/**
 * A tiny tmpfs (root only, as in this environment) for "disk full": always unmount in a
 * finally. (Same idea as lib/offsite/testing/tmpfs.ts, kept here to not depend on it.)
 */
export async function mountTmpfs(size: string): Promise<{ dir: string; unmount(): Promise<void> }> {
  const dir = await tempDir('ark-snap-tmpfs-');
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  return {
    dir,
    async unmount() {
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Every file under `dir`, relative, sorted (dot files included). */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(d: string): Promise<void> {
    const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  }
  await walk(dir);
  return out.sort();
}

export const INVALID_STATES = ['state/global_context.toml', 'state/reflexia_state.toml'];
export const VALID_STATES = [
  'global_state/global_context.toml',
  'modules/zeroia/state/zeroia_decision_log.toml',
  'modules/zeroia/state/zeroia_state.toml',
  'state/arkalia_master_state.toml',
  'state/zeroia_snapshot.toml',
  'state/zeroia_state.toml',
];
export const DEFAULT_PATTERNS = ['modules/*/state/*.toml', 'state/*.toml', 'global_state/*.toml'];
