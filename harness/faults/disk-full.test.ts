import { readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Buffer } from '../../lib/checksum/index.ts';
import { isMountPoint } from './disk-full.ts';
import { injectFault } from './index.ts';
import { faultContext, wholeTree } from './testing.ts';

// Needs root (mount -t tmpfs), as the drills do on this machine.
describe('disk-full fault', () => {
  it('mounts a nearly full tmpfs holding the same files; writes past `free` fail ENOSPC; revert unmounts and keeps what was written', async () => {
    const ctx = await faultContext();
    await writeFile(join(ctx.backupDir, 'old-backup.bin'), Buffer.alloc(100_000, 7));
    const before = await wholeTree(ctx);
    const fault = await injectFault({ kind: 'disk-full', in: 'backup', path: '.', free: '16KiB' }, ctx);
    try {
      expect(await isMountPoint(ctx.backupDir)).toBe(true);
      expect(await wholeTree(ctx)).toEqual(before);
      const s = await statfs(ctx.backupDir);
      expect(Number(s.bavail) * Number(s.bsize)).toBeLessThanOrEqual(16 * 1024);
      await expect(writeFile(join(ctx.backupDir, 'big.bin'), Buffer.alloc(64 * 1024))).rejects.toThrow(/ENOSPC/);
      await rm(join(ctx.backupDir, 'big.bin')); // what a careful writer does after ENOSPC
      await writeFile(join(ctx.backupDir, 'small.txt'), 'a recovery wrote this\n');
    } finally {
      await fault.revert();
    }
    await fault.revert();
    expect(await isMountPoint(ctx.backupDir)).toBe(false);
    expect(await readFile(join(ctx.backupDir, 'small.txt'), 'utf8')).toBe('a recovery wrote this\n');
    expect(sha256Buffer(await readFile(join(ctx.backupDir, 'old-backup.bin')))).toBe(
      before.get('backup/old-backup.bin'),
    );
  });
});
