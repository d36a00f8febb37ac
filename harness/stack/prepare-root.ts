import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { StackServiceSpec } from './types.ts';

/**
 * Creates the state and mount directories the services need but the root lacks (a fresh
 * module has no state yet). Docker would create missing bind sources itself, but owned
 * by root: these stay the user's.
 */
export async function prepareRoot(root: string, services: readonly StackServiceSpec[]): Promise<void> {
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new Error(`Arkalia root ${root} is not a directory`);
  const dirs = new Set<string>();
  for (const spec of services) {
    dirs.add(dirname(join(root, spec.stateFile)));
    for (const mount of spec.mounts) dirs.add(join(root, mount.source));
  }
  for (const dir of dirs) {
    const existing = await stat(dir).catch(() => undefined);
    if (existing === undefined) await mkdir(dir, { recursive: true });
  }
}
