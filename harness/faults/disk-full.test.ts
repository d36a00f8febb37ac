import { readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Buffer } from '../../lib/checksum/index.ts';
import { isMountPoint } from './disk-full.ts';
import { injectFault } from './index.ts';
import { mountTmpfs } from '../../lib/testing.ts';
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

  it('in_place: shrinks the tmpfs the folder is already on (bind mounts see it too) to leave `free`; revert gives the space back', async () => {
    const ctx = await faultContext();
    const disk = await mountTmpfs('32m');
    try {
      const dir = join(disk.dir, 'root');
      await writeFile(join(disk.dir, 'used.bin'), Buffer.alloc(1024 * 1024, 1));
      const { mkdir } = await import('node:fs/promises');
      await mkdir(dir);
      const fault = await injectFault(
        { kind: 'disk-full', in: 'root', path: '.', free: '256KiB', in_place: true },
        { ...ctx, root: dir },
      );
      const free = async () => statfs(disk.dir).then((s) => Number(s.bavail) * Number(s.bsize));
      expect(await free()).toBeLessThanOrEqual(256 * 1024);
      expect(await isMountPoint(dir)).toBe(false); // no new mount: the same disk, full
      await expect(writeFile(join(dir, 'big.bin'), Buffer.alloc(512 * 1024))).rejects.toThrow(/ENOSPC/);
      await rm(join(dir, 'big.bin'), { force: true });
      await fault.revert();
      await fault.revert();
      expect(await free()).toBeGreaterThan(30 * 1024 * 1024);
    } finally {
      await disk.unmount();
    }
  });

  it('in_place on a folder that is not on a tmpfs is refused by name', async () => {
    const ctx = await faultContext();
    await expect(
      injectFault({ kind: 'disk-full', in: 'backup', path: '.', free: '1MiB', in_place: true }, ctx),
    ).rejects.toThrow(/is not on a tmpfs \(give the scenario a root_disk/);
  });
});
