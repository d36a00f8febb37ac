// Shared test helpers (not used by production code).
import { execFile } from 'node:child_process';
import { chmod, cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The real Arkalia data tree in ../shared/fixtures (read-only: copy it before changing anything). */
export const FIXTURE_ROOT = process.env.ARK_FIXTURES ?? join(REPO_ROOT, '..', 'shared', 'fixtures', 'arkalia-luna-pro');

const created = new Set<string>();

/** A new folder under $TMPDIR. Under vitest it is removed after the test file (harness/testing-setup.ts; ARK_KEEP_TMP=1 keeps it). */
export async function tempDir(prefix = 'ark-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.add(dir);
  return dir;
}

/** Remove every folder tempDir made in this process (best effort: a busy mount point stays). */
export async function removeTempDirs(): Promise<void> {
  const dirs = [...created];
  created.clear();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 2 }).catch(() => undefined)));
}

/** A writable copy of the fixture tree (plus a .env, which the published fixtures lack). */
export async function copyFixture(options: { withEnv?: boolean } = {}): Promise<string> {
  const root = join(await tempDir('ark-root-'), 'arkalia-luna-pro');
  await cp(FIXTURE_ROOT, root, { recursive: true, preserveTimestamps: true });
  await makeWritable(root);
  if (options.withEnv ?? true) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(root, '.env'), 'ARKALIA_SECRET=not-a-real-secret\n', { mode: 0o600 });
  }
  return root;
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(path);
    else await chmod(path, 0o644);
  }
}

/** Every regular file under `dir` (relative path -> content), for byte-for-byte comparisons. */
export async function treeContents(dir: string, base = dir): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) for (const [k, v] of await treeContents(path, base)) out.set(k, v);
    else if ((await stat(path)).isFile()) out.set(relative(base, path), await readFile(path));
  }
  return out;
}

/**
 * A small tmpfs mounted on a temp folder (root only), for "disk full" tests. Always call
 * unmount() in a finally: it unmounts (lazily if busy) and removes the folder.
 */
export async function mountTmpfs(size: string): Promise<{ dir: string; unmount(): Promise<void> }> {
  const run = promisify(execFile);
  const dir = await tempDir('ark-tmpfs-');
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
  return {
    dir,
    async unmount() {
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
