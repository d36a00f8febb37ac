// Test helpers for drills: a writable copy of the Arkalia fixture tree.
import { chmod, cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The read-only sample Arkalia root (a copy of arkalia-luna-pro). */
export const FIXTURE_ROOT = process.env.ARK_FIXTURE_ROOT ?? '/work/shared/fixtures/arkalia-luna-pro';

/** A writable temp copy of `source`; remove it with the returned `remove()`. */
export async function copyFixtureRoot(source = FIXTURE_ROOT): Promise<{ root: string; remove(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'arkalia-root-'));
  await cp(source, root, { recursive: true });
  await makeWritable(root);
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}

// The fixture is read-only (r-x dirs, r-- files) and cp keeps modes: services and scripts
// must be able to write the copy.
async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(path);
    else if (entry.isFile()) await chmod(path, 0o644);
  }
}
