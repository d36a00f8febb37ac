import { posix } from 'node:path';
import type { StackServiceSpec } from './types.ts';

/**
 * Where a file of the Arkalia root appears inside a service's container, through the
 * most specific mount that holds it; undefined when no mount does.
 */
export function containerPath(mounts: StackServiceSpec['mounts'], relativePath: string): string | undefined {
  const file = posix.normalize(relativePath);
  let best: { source: string; target: string } | undefined;
  for (const mount of mounts) {
    const source = posix.normalize(mount.source).replace(/\/$/, '');
    const inside = file === source || file.startsWith(`${source}/`) || source === '.';
    if (inside && (best === undefined || source.length > best.source.length)) best = { source, target: mount.target };
  }
  if (best === undefined) return undefined;
  const rest = best.source === '.' ? file : file.slice(best.source.length);
  return posix.join(best.target, rest);
}
