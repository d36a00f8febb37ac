import { copyFile, cp, mkdir, open, readFile, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sha256Buffer } from '../checksum/index.ts';
import { fsyncDir } from '../state/index.ts';
import type { FileChange } from './plan-changes.ts';
import { listFiles } from './stage-module-state.ts';

/** name → sha256 of every regular file under `dir` (empty when the folder does not exist). */
export async function hashTree(dir: string, skip: (name: string) => boolean = () => false): Promise<Map<string, string>> {
  const files = await listFiles(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const out = new Map<string, string>();
  for (const name of files.filter((n) => !skip(n))) out.set(name, sha256Buffer(await readFile(join(dir, name))));
  return out;
}

/**
 * Copy the live folder's current files to `preserveDir` (forensics: the corrupted state is
 * evidence) and fsync them. Done before anything live changes; returns the files copied.
 */
export async function preserveTree(liveDir: string, names: readonly string[], preserveDir: string): Promise<void> {
  await mkdir(preserveDir, { recursive: true, mode: 0o700 });
  for (const name of names) {
    const target = join(preserveDir, name);
    await mkdir(dirname(target), { recursive: true });
    await cp(join(liveDir, name), target, { preserveTimestamps: true, errorOnExist: true, force: false });
    await fsyncFile(target);
  }
  await fsyncDir(preserveDir);
}

/**
 * Apply `changes` to `liveDir`: each file is renamed into place (atomic per file, so a
 * service or a crash sees the old or the new file, never a torn one; a directory bind mount
 * like docker-compose's ./modules/zeroia/state keeps working because the folder itself is
 * never replaced). If any step fails, the files are put back from `preserveDir`.
 */
export async function swapIn(options: { liveDir: string; stagedDir: string; prefix: string; changes: readonly FileChange[]; preserveDir: string; preserved: readonly string[] }): Promise<void> {
  const { liveDir, stagedDir, prefix } = options;
  const rel = (path: string) => path.slice(prefix.length);
  try {
    await mkdir(liveDir, { recursive: true });
    for (const change of options.changes) {
      if (change.action === 'replace' || change.action === 'create') {
        await moveIntoPlace(join(stagedDir, rel(change.path)), join(liveDir, rel(change.path)));
      } else if (change.action === 'remove') {
        await unlink(join(liveDir, rel(change.path)));
      }
    }
    await fsyncDir(liveDir);
  } catch (error) {
    await rollBack(liveDir, options.preserveDir, options.preserved, options.changes.map((c) => rel(c.path)));
    throw error;
  }
}

async function rollBack(liveDir: string, preserveDir: string, preserved: readonly string[], touched: readonly string[]): Promise<void> {
  const keep = new Set(preserved);
  for (const name of touched) {
    if (keep.has(name)) await copyInto(join(preserveDir, name), join(liveDir, name));
    else await rm(join(liveDir, name), { force: true });
  }
}

/** rename(2) when on the same filesystem; otherwise copy to a temp name beside the target, fsync, rename. */
async function moveIntoPlace(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  try {
    await rename(source, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyInto(source, target);
  }
}

async function copyInto(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.ark-restore-tmp-${process.pid}-${Date.now()}`);
  await copyFile(source, tmp);
  await fsyncFile(tmp);
  await rename(tmp, target);
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
