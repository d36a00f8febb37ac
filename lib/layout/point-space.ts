import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

// Space as `du` counts it: points share archives as hard links, so a file's bytes count once
// per inode, not once per name. What deleting some points frees is what no other point links.

export interface PointSpace {
  /** Bytes of every distinct file (inode) in the given points. */
  uniqueBytes: number;
  /** Bytes the names alone add up to (what a copy of each point would use). */
  apparentBytes: number;
}

type Inodes = Map<bigint, number>;

async function inodesOf(dir: string): Promise<Inodes> {
  const inodes: Inodes = new Map();
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const info = await lstat(join(dir, name), { bigint: true }).catch(() => null);
    if (info?.isFile()) inodes.set(info.ino, Number(info.size));
  }
  return inodes;
}

/** `kept` and `dropped` point folders: the unique bytes of each side, and what dropping frees (inodes only `dropped` holds). */
export async function measurePointSpace(
  kept: readonly string[],
  dropped: readonly string[],
): Promise<{ kept: PointSpace; freedBytes: number }> {
  const keptInodes: Inodes = new Map();
  let apparent = 0;
  for (const dir of kept)
    for (const [ino, size] of await inodesOf(dir)) {
      keptInodes.set(ino, size);
      apparent += size;
    }
  const freed: Inodes = new Map();
  for (const dir of dropped)
    for (const [ino, size] of await inodesOf(dir)) if (!keptInodes.has(ino)) freed.set(ino, size);
  const sum = (m: Inodes) => [...m.values()].reduce((a, b) => a + b, 0);
  return { kept: { uniqueBytes: sum(keptInodes), apparentBytes: apparent }, freedBytes: sum(freed) };
}
