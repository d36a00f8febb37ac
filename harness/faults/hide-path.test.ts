import { mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFixture } from '../../lib/testing.ts';
import { injectFault } from './index.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';

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
