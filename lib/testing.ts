// Shared test helpers (not used by production code).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SAMPLE_ROOT } from '../sample/index.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

const created = new Set<string>();

/** A new folder under $TMPDIR. Under vitest it is removed after the test file (harness/testing-setup.ts; ARK_KEEP_TMP=1 keeps it). */
export async function tempDir(prefix = 'ark-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  created.add(dir);
  return dir;
}

/** Remove every folder tempDir made in this process (best effort: a busy mount point stays). */
/** A new temporary folder holding `files` (relative path → content), folders made as needed. */
export async function writeTree(files: Record<string, string>, prefix = 'ark-'): Promise<string> {
  const dir = await tempDir(prefix);
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  const dirs = [...created];
  created.clear();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true, maxRetries: 2 }).catch(() => undefined)));
}

/**
 * A writable copy of the sample Arkalia root (sample/index.ts) in a temp folder, its .env
 * private (0600) as on a real installation, or left out with `withEnv: false`.
 */
export async function copyFixture(options: { withEnv?: boolean } = {}): Promise<string> {
  const root = join(await tempDir('ark-root-'), 'arkalia-luna-pro');
  await cp(SAMPLE_ROOT, root, { recursive: true, preserveTimestamps: true });
  if (options.withEnv ?? true) await chmod(join(root, '.env'), 0o600);
  else await rm(join(root, '.env'));
  return root;
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

/** Relative path -> text of every regular file under `dir` (dot files included; a link counts as the file it points to, a dangling one not at all), for exact comparisons. */
export async function fileTexts(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const info = await stat(join(dir, name)).catch(() => null);
    if (info?.isFile()) out[name] = await readFile(join(dir, name), 'utf8');
  }
  return out;
}

/** A checkout another user can run scripts from: `repo` (a copy of what they need) and the `node` to run them with. */
export interface ReadableCheckout {
  repo: string;
  node: string;
}

const readable = new Map<number, Promise<ReadableCheckout>>();

/**
 * For a test that runs a script as another user (root tests run some as nobody): a copy of
 * what the scripts need (package.json, lib/, scripts/, harness/, sample/, node_modules/) in a
 * folder that user can enter and read, since the checkout may sit in a 0700 home; and Node
 * itself copied there too when that user cannot run this one. Made once per test file.
 */
export function checkoutReadableBy(uid: number): Promise<ReadableCheckout> {
  let made = readable.get(uid);
  if (!made) {
    made = makeReadableCheckout(uid);
    readable.set(uid, made);
  }
  return made;
}

async function makeReadableCheckout(uid: number): Promise<ReadableCheckout> {
  const run = promisify(execFile);
  const repo = await tempDir('ark-checkout-');
  // dist/ and bin/ too, when built: the copy runs the bundle as the checkout does (same times, cp -a).
  const parts = [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'lib',
    'scripts',
    'harness',
    'sample',
    'node_modules',
    'bin',
    'dist',
  ]
    .map((p) => join(REPO_ROOT, p))
    .filter((p) => existsSync(p));
  await run('cp', ['-a', '--reflink=auto', ...parts, repo]);
  await run('chmod', ['-R', 'a+rX', repo]);
  let node = process.execPath;
  if (
    !(await run(node, ['-e', ''], { uid, gid: uid }).then(
      () => true,
      () => false,
    ))
  ) {
    node = join(repo, 'node');
    await run('cp', [process.execPath, node]);
    await chmod(node, 0o755);
  }
  return { repo, node };
}

/** `path` inside this checkout, moved into `checkout` (other paths as they are). */
export function inCheckout(path: string, checkout: ReadableCheckout): string {
  const rel = relative(REPO_ROOT, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : join(checkout.repo, rel);
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
