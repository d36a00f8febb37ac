import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import { FREED_INODE_WINDOW_MS, freeBytes, settleDeletions } from './quiet-disk.ts';

// The bench waits for the file system to forget the inodes it freed before timing a restore.

describe('bench: a quiet disk before the timed restores', () => {
  it('settles deletions: files created from the returned moment on pay nothing for what was freed before', () => {
    expect(FREED_INODE_WINDOW_MS).toBeGreaterThan(360_000); // ext4's recently_deleted window for a dirty inode table block
    expect(settleDeletions(() => 1_000)).toBe(1_000 + FREED_INODE_WINDOW_MS);
  });

  it('reads the space left for this user as df does', async () => {
    const dir = await tempDir('ark-quiet-');
    const df = spawnSync('df', ['-B1', '--output=avail', dir], { encoding: 'utf8' });
    const avail = Number(df.stdout.trim().split('\n').at(-1));
    expect(avail).toBeGreaterThan(0);
    expect(Math.abs((await freeBytes(dir)) - avail)).toBeLessThan(256 * 1024 ** 2);
  });
});
