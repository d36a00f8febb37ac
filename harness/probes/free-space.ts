import { statfs } from 'node:fs/promises';
import { parseByteSize } from '../scenario/chaos-schemas.ts';
import { locate, type Location } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';

/** The file system holding a location's path has at most `atMost` bytes free (a disk-full fault is in place). */
export async function freeSpace(input: { in: Location; path: string; atMost: string }, ctx: ProbeContext): Promise<ProbeResult> {
  const probe = `free-space ${input.in}:${input.path} ≤ ${input.atMost}`;
  const stats = await statfs(locate(ctx, input.in, input.path));
  const free = Number(stats.bavail) * Number(stats.bsize);
  return { probe, ok: free <= parseByteSize(input.atMost), detail: `${free} bytes free` };
}
