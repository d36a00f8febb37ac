import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../lib/testing.ts';
import { writeDamage } from './write-damage.ts';

describe('writeDamage', () => {
  it('writes the damage again when a running service overwrote it', async () => {
    const file = join(await tempDir(), 's.toml');
    await writeFile(file, 'a = 1\n');
    const damaged = Buffer.from('<<<<<<< HEAD\n');
    // A "service" that wins the race once: it rewrites the file right after our first write.
    let overwrites = 0;
    const service = setInterval(() => {
      void readFile(file).then(async (b) => {
        if (b.equals(damaged) && overwrites === 0) {
          overwrites += 1;
          await writeFile(file, 'a = 2\n');
        }
      });
    }, 20);
    try {
      await writeDamage(file, damaged, { serviceRunning: true, settleMs: 200 });
    } finally {
      clearInterval(service);
    }
    expect(overwrites).toBe(1);
    expect((await readFile(file)).equals(damaged)).toBe(true);
  });
});
