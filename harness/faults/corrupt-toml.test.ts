import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateToml } from '../../lib/state/index.ts';
import { copyFixture } from '../../lib/testing.ts';
import { corruptBytes, injectFault } from './index.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';

const MODES = ['conflict-markers', 'truncate', 'garbage', 'bit-flip', 'empty', 'invalid-utf8'] as const;

describe('corrupt-toml fault', () => {
  it.each(MODES)('%s makes a valid state file something a loader must reject', async (mode) => {
    const original = await readFile(join(SAMPLE_ROOT, 'modules/zeroia/state/zeroia_state.toml'));
    expect(validateToml(original).ok).toBe(true);
    const damaged = corruptBytes(original, mode);
    expect(damaged.equals(original)).toBe(false);
    // An empty file is valid TOML but loses every key: the stand-ins treat it as invalid state.
    if (mode === 'empty') expect(damaged.length).toBe(0);
    else expect(validateToml(damaged).ok).toBe(false);
  });

  it('reverts to the original bytes, but never undoes a recovery', async () => {
    const root = await copyFixture();
    const path = join(root, 'modules/zeroia/state/zeroia_state.toml');
    const original = await readFile(path);
    const injected = await injectFault(
      { kind: 'corrupt-toml', path: 'modules/zeroia/state/zeroia_state.toml', mode: 'conflict-markers' },
      { root, backupDir: root, stack: null },
    );
    expect((await readFile(path, 'utf8')).startsWith('<<<<<<< HEAD')).toBe(true);
    await injected.revert();
    expect((await readFile(path)).equals(original)).toBe(true);

    const again = await injectFault(
      { kind: 'corrupt-toml', path: 'modules/zeroia/state/zeroia_state.toml', mode: 'garbage' },
      { root, backupDir: root, stack: null },
    );
    await writeFile(path, 'restored = true\n');
    await again.revert();
    expect(await readFile(path, 'utf8')).toBe('restored = true\n');
  });
});
