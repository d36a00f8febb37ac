import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { injectFault } from './index.ts';
import { faultContext, wholeTree } from './testing.ts';

const STATE = 'modules/zeroia/state/zeroia_state.toml';

describe('delete-file fault', () => {
  it('deletes the file; revert puts the same bytes back, twice over (idempotent)', async () => {
    const ctx = await faultContext();
    const before = await wholeTree(ctx);
    const fault = await injectFault({ kind: 'delete-file', in: 'root', path: STATE }, ctx);
    await expect(readFile(join(ctx.root, STATE))).rejects.toThrow(/ENOENT/);
    expect(fault.path).toBe(STATE);
    await fault.revert();
    await fault.revert();
    expect(await wholeTree(ctx)).toEqual(before);
  });

  it('never undoes a recovery that recreated the file', async () => {
    const ctx = await faultContext();
    const fault = await injectFault({ kind: 'delete-file', in: 'root', path: STATE }, ctx);
    await writeFile(join(ctx.root, STATE), 'restored = true\n');
    await fault.revert();
    expect(await readFile(join(ctx.root, STATE), 'utf8')).toBe('restored = true\n');
  });
});
