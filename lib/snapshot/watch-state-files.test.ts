import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFixture } from '../testing.ts';
import { compileStatePatterns } from './state-patterns.ts';
import { watchStateFiles, type StateWatcher, type WatchStateFilesOptions } from './watch-state-files.ts';
import { DEFAULT_PATTERNS, INVALID_STATES, VALID_STATES } from './testing.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, probe: () => boolean, ms = 4000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function start(overrides: Partial<WatchStateFilesOptions> = {}) {
  const root = await copyFixture({ withEnv: false });
  const settled: string[] = [];
  const warnings: string[] = [];
  const watcher: StateWatcher = await watchStateFiles({
    root,
    patterns: compileStatePatterns(DEFAULT_PATTERNS),
    debounceMs: 250,
    maxWaitMs: 5000,
    rescanMs: 60_000,
    onSettled: async (path) => {
      settled.push(path);
    },
    onWarning: (code, message) => warnings.push(`${code}: ${message}`),
    ...overrides,
  });
  return { root, settled, warnings, watcher };
}

describe('watchStateFiles', { timeout: 15_000 }, () => {
  it('hands every state file over once at start, then a burst of writes to one file once, after it settles', async () => {
    const { root, settled, warnings, watcher } = await start();
    try {
      await until('the initial pass', () => settled.length === 8);
      expect([...settled].sort()).toEqual([...VALID_STATES, ...INVALID_STATES].sort());
      // Every folder on the way to a state file: each module folder may grow a state/ folder.
      const modules = ['assistantia', 'cognitive_reactor', 'reflexia', 'sandozia', 'taskia', 'zeroia'].map(
        (m) => `modules/${m}`,
      );
      const stateDirs = ['modules/cognitive_reactor/state', 'modules/reflexia/state', 'modules/zeroia/state'];
      expect(watcher.dirs()).toEqual(['', 'global_state', 'modules', ...modules, ...stateDirs, 'state'].sort());
      settled.length = 0;

      const file = join(root, 'modules/zeroia/state/zeroia_state.toml');
      for (let i = 0; i < 10; i++) {
        // in-place writes and atomic renames, as services do both
        if (i % 2 === 0) await writeFile(file, `sequence = ${i}\n`);
        else {
          await writeFile(`${file}.tmp`, `sequence = ${i}\n`);
          await rename(`${file}.tmp`, file);
        }
        await sleep(10);
      }
      await until('the settled burst', () => settled.length > 0);
      await sleep(500); // nothing more may come (a split burst would settle within 250 ms of its last write)
      expect(settled).toEqual(['modules/zeroia/state/zeroia_state.toml']);
      expect(warnings).toEqual([]);
    } finally {
      await watcher.stop();
    }
  });

  it('watches folders that appear later (a new module, a state folder renamed away and recreated)', async () => {
    const { root, settled, watcher } = await start();
    try {
      await until('the initial pass', () => settled.length === 8);
      settled.length = 0;
      await mkdir(join(root, 'modules/newmod/state'), { recursive: true });
      // No pause: the file may land before the new folder is watched; the re-scan after adding a watch finds it.
      await writeFile(join(root, 'modules/newmod/state/newmod_state.toml'), 'a = 1\n');
      await until('the new module', () => settled.includes('modules/newmod/state/newmod_state.toml'));
      expect(watcher.dirs()).toContain('modules/newmod/state');

      await rename(join(root, 'state'), join(root, 'state.hidden'));
      await mkdir(join(root, 'state'));
      await writeFile(join(root, 'state/fresh.toml'), 'b = 2\n');
      await until('the recreated state folder', () => settled.includes('state/fresh.toml'));
      await writeFile(join(root, 'state.hidden/zeroia_state.toml'), 'moved = true\n');
      await sleep(300);
      expect(settled).not.toContain('state/zeroia_state.toml'); // the watch followed the new folder, not the renamed one
    } finally {
      await watcher.stop();
    }
  });

  it('finds changes by periodic re-scan when fs events never come', async () => {
    const { root, settled, watcher } = await start({ watch: () => ({ close() {} }), rescanMs: 100 });
    try {
      await until('the initial pass', () => settled.length === 8);
      settled.length = 0;
      await writeFile(join(root, 'state/zeroia_state.toml'), 'changed = true\n');
      await until('the re-scan', () => settled.length > 0);
      expect(settled).toEqual(['state/zeroia_state.toml']);
    } finally {
      await watcher.stop();
    }
  });

  it('stop() finishes the call in flight and hands over changes still settling, then nothing more', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls: string[] = [];
    const { root, watcher } = await start({
      debounceMs: 3000, // a change made now would not settle before stop() on its own
      maxWaitMs: 3000,
      onSettled: async (path) => {
        calls.push(path);
        if (path === 'state/zeroia_state.toml') await gate; // the last file of the initial pass stays in flight
      },
    });
    await until('the call in flight', () => calls.includes('state/zeroia_state.toml'));
    await writeFile(join(root, 'global_state/global_context.toml'), 'late = 1\n');
    await sleep(100); // its event has arrived and is being debounced
    expect(calls.filter((c) => c === 'global_state/global_context.toml')).toHaveLength(1); // the initial one only

    let stopped = false;
    const stopping = watcher.stop().then(() => (stopped = true));
    await sleep(200);
    expect(stopped, 'stop waits for the call in flight').toBe(false);
    const released = Date.now();
    release();
    await stopping;
    expect(Date.now() - released, 'the pending change was handed over at once, not after its debounce').toBeLessThan(
      1500,
    );
    expect(calls.at(-1)).toBe('global_state/global_context.toml');
    expect(calls.filter((c) => c === 'global_state/global_context.toml')).toHaveLength(2);

    const count = calls.length;
    await writeFile(join(root, 'state/arkalia_master_state.toml'), 'after = 1\n');
    await sleep(200);
    expect(calls.length, 'nothing after stop').toBe(count);
  });
});
