import { statfs } from 'node:fs/promises';
import { z } from 'zod';
import { byteSize, inPath, location, parseByteSize } from '../scenario/fields.ts';
import { locate, type Location } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { defineProbe } from './probe.ts';

/** The file system of a location has at most this much free space. */
const schema = z.strictObject({
  probe: z.literal('free-space'),
  in: location('backup'),
  path: inPath.default('.'),
  at_most: byteSize,
});

export const freeSpaceProbe = defineProbe({
  probe: 'free-space',
  schema,
  needsStack: false,
  describe: (probe) => `free-space ${probe.in}:${probe.path} ≤ ${probe.at_most}`,
  run: (probe, ctx) => freeSpace({ in: probe.in, path: probe.path, atMost: probe.at_most }, ctx),
});

/** The file system holding a location's path has at most `atMost` bytes free (a disk-full fault is in place). */
export async function freeSpace(
  input: { in: Location; path: string; atMost: string },
  ctx: ProbeContext,
): Promise<ProbeResult> {
  const probe = `free-space ${input.in}:${input.path} ≤ ${input.atMost}`;
  const stats = await statfs(locate(ctx, input.in, input.path));
  const free = Number(stats.bavail) * Number(stats.bsize);
  return { probe, ok: free <= parseByteSize(input.atMost), detail: `${free} bytes free` };
}
