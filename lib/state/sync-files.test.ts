import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import { startWriteback, syncFiles } from './index.ts';

describe('syncFiles', () => {
  it('one syncfs of the folder where `sync -f` works; else an fdatasync of each file, which names one that is gone', async () => {
    const dir = await tempDir('ark-sync-');
    const files = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const file = join(dir, `f${i}.toml`);
        await writeFile(file, `n = ${i}\n`);
        return file;
      }),
    );
    expect(await syncFiles(dir, files)).toBe('syncfs');
    expect(await syncFiles(dir, files, { syncfs: false })).toBe('fdatasync');
    await expect(syncFiles(dir, [...files, join(dir, 'gone.toml')], { syncfs: false })).rejects.toThrow(
      /ENOENT.*gone\.toml/,
    );
  });

  it('falls back to fdatasync where there is no `sync` program', async () => {
    const dir = await tempDir('ark-sync-');
    await writeFile(join(dir, 'a'), 'a');
    const path = process.env.PATH;
    process.env.PATH = dir; // no sync here
    try {
      expect(await syncFiles(dir, [join(dir, 'a')])).toBe('fdatasync');
    } finally {
      process.env.PATH = path;
    }
  });

  it('startWriteback: resolves whether `sync -f` ran, never rejects (no program, a folder that is gone)', async () => {
    const dir = await tempDir('ark-sync-');
    await writeFile(join(dir, 'a'), 'a');
    expect(await startWriteback(dir)).toBe(true);
    expect(await startWriteback(join(dir, 'gone'))).toBe(false);
    const path = process.env.PATH;
    process.env.PATH = dir;
    try {
      expect(await startWriteback(dir)).toBe(false);
    } finally {
      process.env.PATH = path;
    }
  });
});
