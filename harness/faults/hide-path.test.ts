import { mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { copyFixture } from '../../lib/testing.ts';
import { injectFault } from './index.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';

// A hook into rmdir (none by default): the test below plays a service writing between the fault's moves.
const hooks = vi.hoisted(() => ({ beforeRmdir: null as null | (() => Promise<void>) }));
vi.mock('node:fs/promises', async (original) => {
  const fs = await original<typeof import('node:fs/promises')>();
  return {
    ...fs,
    rmdir: async (...args: Parameters<typeof fs.rmdir>) => {
      const hook = hooks.beforeRmdir;
      hooks.beforeRmdir = null;
      await hook?.();
      return fs.rmdir(...args);
    },
  };
});

describe('hide-path fault', () => {
  it('empties and removes a folder, so a process holding it (a bind mount) sees its files vanish; revert puts it back', async () => {
    const root = await copyFixture();
    const dir = join(root, 'modules/zeroia/state');
    const held = await open(dir, 'r'); // like a container's bind mount: it keeps the folder itself
    const injected = await injectFault(
      { kind: 'hide-path', path: 'modules/zeroia/state' },
      { root, backupDir: root, stack: null },
    );
    expect(injected.description).toMatch(/folder emptied and removed, 2 entries kept aside/);
    expect(await stat(dir).catch(() => null)).toBeNull();
    expect((await held.stat()).nlink).toBe(0); // the held folder is the deleted, empty one
    await held.close();
    await injected.revert();
    expect(
      (await readFile(join(dir, 'zeroia_state.toml'))).equals(
        await readFile(join(SAMPLE_ROOT, 'modules/zeroia/state/zeroia_state.toml')),
      ),
    ).toBe(true);
  });

  it('never undoes a recovery that rebuilt the folder', async () => {
    const root = await copyFixture();
    const injected = await injectFault({ kind: 'hide-path', path: 'state' }, { root, backupDir: root, stack: null });
    await mkdir(join(root, 'state'));
    await writeFile(join(root, 'state', 'restored.toml'), 'restored = true\n');
    await injected.revert();
    expect(await readdir(join(root, 'state'))).toEqual(['restored.toml']);
  });
});

describe('hide-path fault, with a service writing meanwhile', () => {
  it('a subfolder a service recreates after it was moved aside is removed again, not a failure (ENOTEMPTY on the second move)', async () => {
    const root = await copyFixture();
    await mkdir(join(root, 'state', 'sandozia'), { recursive: true });
    await writeFile(join(root, 'state', 'sandozia', 'a.toml'), 'a = 1\n');
    // The "service": just before the fault removes the emptied folder, it has written its subfolder again.
    hooks.beforeRmdir = async () => {
      await mkdir(join(root, 'state', 'sandozia'), { recursive: true });
      await writeFile(join(root, 'state', 'sandozia', 'b.toml'), 'b = 2\n');
    };
    const injected = await injectFault({ kind: 'hide-path', path: 'state' }, { root, backupDir: root, stack: null });
    expect(await stat(join(root, 'state')).catch(() => null)).toBeNull();
    await injected.revert();
    const kept = await readdir(join(root, 'state', 'sandozia'));
    expect(kept).toContain('a.toml');
    expect(kept).not.toContain('b.toml'); // the copy taken first
  });
});
