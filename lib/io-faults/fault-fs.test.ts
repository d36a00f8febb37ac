import { createReadStream, createWriteStream, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import { FaultFs } from './fault-fs.ts';

let shim: FaultFs | null = null;
beforeAll(() => FaultFs.ready());
afterEach(() => {
  shim?.uninstall();
  shim = null;
});

async function someIo(dir: string): Promise<void> {
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'a'), 'hello');
  writeFileSync(join(dir, 'b'), 'sync');
  renameSync(join(dir, 'b'), join(dir, 'c'));
  const handle = await open(join(dir, 'd'), 'w');
  await handle.writeFile('handle');
  await handle.sync();
  await handle.close();
  await pipeline(createReadStream(join(dir, 'sub', 'a')), createWriteStream(join(dir, 'e')));
}

describe('FaultFs', () => {
  it('counts every in-scope call, through named imports, sync calls, FileHandles and streams', async () => {
    const dir = await tempDir();
    shim = new FaultFs([dir]).install();
    shim.arm(null);
    await someIo(dir);
    const ops = shim.calls.map((c) => c.op);
    expect(ops).toEqual(
      expect.arrayContaining([
        'mkdir',
        'writeFile',
        'writeFileSync',
        'renameSync',
        'open',
        'handle.writeFile',
        'handle.sync',
      ]),
    );
    // The streams' own opens, reads and writes (Node's streams call the public fs functions).
    expect(ops.filter((o) => o === 'open').length).toBeGreaterThanOrEqual(3);
    expect(ops).toEqual(expect.arrayContaining(['read', 'write']));
    expect(shim.calls.every((c) => c.path.startsWith(dir))).toBe(true);
    expect(await readFile(join(dir, 'e'), 'utf8')).toBe('hello');
  });

  it('leaves calls outside its scopes alone', async () => {
    const [inside, outside] = [await tempDir(), await tempDir()];
    shim = new FaultFs([inside]).install();
    shim.arm({ code: 'EIO', nth: 1, persistent: true });
    writeFileSync(join(outside, 'x'), 'fine');
    expect(readFileSync(join(outside, 'x'), 'utf8')).toBe('fine');
    expect(shim.calls).toEqual([]);
  });

  it('fails exactly the n-th eligible call with a Node-shaped errno error, every style', async () => {
    const dir = await tempDir();
    shim = new FaultFs([dir]).install();
    shim.arm(null);
    await someIo(dir);
    const total = shim.calls.length;
    const writing = shim.eligible('ENOSPC');
    expect(writing).toBeGreaterThan(5);
    expect(writing).toBeLessThan(total);
    for (let nth = 1; nth <= total; nth++) {
      const fresh = await tempDir();
      shim.uninstall();
      shim = new FaultFs([fresh]).install();
      shim.arm({ code: 'EIO', nth });
      const error = await someIo(fresh).then(
        () => null,
        (e: NodeJS.ErrnoException) => e,
      );
      expect(shim.injected).toHaveLength(1);
      expect(error, `call ${nth} (${shim.injected[0]?.op})`).toMatchObject({ code: 'EIO', errno: -5 });
      expect(error?.message).toContain(fresh);
    }
  });

  it('a persistent ENOSPC fails every later allocating call, never unlink or rename', async () => {
    const dir = await tempDir();
    shim = new FaultFs([dir]).install();
    shim.arm({ code: 'ENOSPC', nth: 1, persistent: true });
    await expect(writeFile(join(dir, 'a'), 'x')).rejects.toMatchObject({ code: 'ENOSPC', syscall: 'writeFile' });
    expect(() => writeFileSync(join(dir, 'b'), 'x')).toThrow(/ENOSPC: no space left on device/);
    shim.disarm();
    writeFileSync(join(dir, 'b'), 'x');
    shim.arm({ code: 'ENOSPC', nth: 1, persistent: true });
    renameSync(join(dir, 'b'), join(dir, 'c'));
    expect(shim.injected).toEqual([]);
  });
});
