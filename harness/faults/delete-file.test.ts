import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ArkaliaStack } from '../stack/index.ts';
import { injectDeleteFile } from './delete-file.ts';
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

  it('with a service running, deletes again a file its heartbeat recreated in the race; revert brings back the original', async () => {
    const ctx = await faultContext();
    const file = join(ctx.root, STATE);
    const original = await readFile(file);
    // A "service" whose rename won the race once: the file comes back right after the deletion.
    let recreated = 0;
    const service = setInterval(() => {
      void readFile(file).catch(async () => {
        if (recreated === 0) {
          recreated += 1;
          await writeFile(file, 'heartbeat = 2\n');
        }
      });
    }, 20);
    let fault;
    try {
      fault = await injectDeleteFile(
        { kind: 'delete-file', in: 'root', path: STATE },
        { ...ctx, stack: {} as ArkaliaStack },
        { settleMs: 200 },
      );
    } finally {
      clearInterval(service);
    }
    await new Promise((r) => setTimeout(r, 100)); // the service had every chance to recreate it
    expect(recreated).toBe(1);
    await expect(readFile(file)).rejects.toThrow(/ENOENT/);
    await fault.revert();
    expect((await readFile(file)).equals(original)).toBe(true);
  });
});
