import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, realpath, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { tempDir } from '../../lib/testing.ts';
import { byteSize, inPath, location, parseByteSize } from '../scenario/fields.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';
import { expandIn, faultPath } from './fault-path.ts';

const run = promisify(execFile);

/**
 * The folder is replaced by a tmpfs holding a copy of it with only `free` bytes left; with
 * `in_place`, the tmpfs the folder is already on (the scenario's root_disk) is shrunk to
 * leave `free` bytes, so that the containers bind-mounting from it see the same full disk.
 */
const schema = z.strictObject({
  kind: z.literal('disk-full'),
  in: location('backup'),
  path: inPath.default('.'),
  free: byteSize.default('16KiB'),
  in_place: z.boolean().optional(),
});

export const diskFullFault = defineFault({ kind: 'disk-full', schema, needsStack: false, inject: injectDiskFull });

type DiskFull = z.infer<typeof schema>;

/**
 * The folder (the backup folder by default) becomes a tiny disk that is almost full: a tmpfs
 * is mounted over it holding a copy of its content, sized so that only `free` bytes are left.
 * The real content stays untouched underneath. Needs root (`mount -t tmpfs`).
 * Revert takes whatever is on the small disk now (what a recovery wrote there stays), unmounts
 * it and puts that content in the real folder. Idempotent.
 */
export async function injectDiskFull(fault: DiskFull, ctx: FaultContext): Promise<InjectedFault> {
  const dir = faultPath(ctx, fault.in, fault.path);
  const free = parseByteSize(fault.free);
  if (fault.in_place) return shrinkInPlace(fault, ctx, dir, free);
  await mkdir(dir, { recursive: true });
  const staging = await scratch(ctx, 'disk-full-copy');
  await cp(dir, staging, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  const bytes = await treeBytes(staging);
  await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes + free + 1024 * 1024},mode=0755`, 'tmpfs', dir]);
  try {
    await cp(staging, dir, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    // Shrink the disk to what it holds plus `free`: any larger write fails with ENOSPC.
    const s = await statfs(dir);
    const used = (Number(s.blocks) - Number(s.bfree)) * Number(s.bsize);
    await run('mount', ['-o', `remount,size=${used + free}`, 'tmpfs', dir]);
  } catch (error) {
    await unmount(dir);
    throw error;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const left = await statfs(dir).then((s) => Number(s.bavail) * Number(s.bsize));
  let reverted = false;
  return {
    kind: fault.kind,
    description: `${fault.in}:${expandIn(ctx, fault.path)} is now a full disk: ${left} bytes free`,
    async revert() {
      if (reverted || !(await isMountPoint(dir))) return;
      const after = await scratch(ctx, 'disk-full-after');
      await cp(dir, after, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
      await unmount(dir);
      for (const name of await readdir(dir)) await rm(join(dir, name), { recursive: true, force: true });
      for (const name of await readdir(after)) await rename(join(after, name), join(dir, name));
      await rm(after, { recursive: true, force: true });
      reverted = true;
    },
  };
}

/** Shrink the tmpfs `dir` is on so that `free` bytes are left; revert gives its size back. */
async function shrinkInPlace(fault: DiskFull, ctx: FaultContext, dir: string, free: number): Promise<InjectedFault> {
  const mount = await tmpfsHolding(dir);
  if (mount === null)
    throw new Error(`disk-full in_place: ${dir} is not on a tmpfs (give the scenario a root_disk, or drop in_place)`);
  const s = await statfs(mount);
  const size = Number(s.blocks) * Number(s.bsize);
  const used = (Number(s.blocks) - Number(s.bfree)) * Number(s.bsize);
  await run('mount', ['-o', `remount,size=${used + free}`, 'tmpfs', mount]);
  const left = await statfs(mount).then((t) => Number(t.bavail) * Number(t.bsize));
  let reverted = false;
  return {
    kind: fault.kind,
    description: `the file system of ${fault.in}:${expandIn(ctx, fault.path)} (${mount}) is now full: ${left} bytes free`,
    async revert() {
      if (reverted) return;
      await run('mount', ['-o', `remount,size=${size}`, 'tmpfs', mount]);
      reverted = true;
    },
  };
}

/** The mount point of the tmpfs holding `dir`, or null when its file system is not a tmpfs. */
async function tmpfsHolding(dir: string): Promise<string | null> {
  const real = await realpath(dir);
  let best: { mount: string; type: string } | null = null;
  for (const line of (await readFile('/proc/self/mountinfo', 'utf8')).split('\n')) {
    const [left, right] = line.split(' - ');
    const mount = left?.split(' ')[4]?.replace(/\\040/g, ' ');
    const type = right?.split(' ')[0];
    if (!mount || !type) continue;
    if ((real === mount || real.startsWith(`${mount}/`)) && mount.length > (best?.mount.length ?? -1))
      best = { mount, type };
  }
  return best?.type === 'tmpfs' ? best.mount : null;
}

async function scratch(ctx: FaultContext, label: string): Promise<string> {
  if (ctx.work === undefined) return join(await tempDir(`ark-${label}-`), 'copy');
  const dir = join(ctx.work, '.fault-stash', `${label}-${process.hrtime.bigint()}`);
  await mkdir(join(dir, '..'), { recursive: true });
  return dir;
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Whether `dir` is a mount point now (/proc/self/mountinfo, field 5). */
export async function isMountPoint(dir: string): Promise<boolean> {
  const real = await realpath(dir).catch(() => dir);
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((line) => line.split(' ')[4]?.replace(/\\040/g, ' ') === real);
}

async function unmount(dir: string): Promise<void> {
  await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
}
