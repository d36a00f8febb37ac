// Test helpers for snapshot tests (not used by production code).
import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

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

export { mountTmpfs } from '../testing.ts';

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
