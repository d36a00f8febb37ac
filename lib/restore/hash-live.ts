import { lstatSync } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../checksum/index.ts';

/**
 * root-relative path → sha256 of the live files a restore may touch: every file under the
 * mirrored folders, and the live counterpart of every staged path. A symlink counts as
 * `symlink:<target>` (it is replaced like a file, never followed); a folder where a file
 * should be counts as absent (the swap will then fail and roll back, not merge).
 */
export async function hashLive(root: string, stagedPaths: Iterable<string>, mirrorDirs: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const dir of mirrorDirs) {
    for (const path of await walk(root, dir.replace(/\/$/, ''))) out.set(path, await digest(join(root, path)));
  }
  for (const path of stagedPaths) {
    if (out.has(path) || !present(join(root, path))) continue; // a recovery into an empty root: 17k absent files, no error object each
    const sha = await digest(join(root, path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR' || error.code === 'EISDIR') return null;
      throw error;
    });
    if (sha !== null) out.set(path, sha);
  }
  return out;
}

/** Whether anything is at `path` (a missing parent, or a file where a folder should be, is nothing). */
function present(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
    throw error;
  }
}

async function digest(path: string): Promise<string> {
  const info = await lstat(path);
  if (info.isSymbolicLink()) return `symlink:${await readlink(path)}`;
  if (!info.isFile()) throw Object.assign(new Error(`${path} is not a file`), { code: 'EISDIR' });
  return (await sha256File(path)).sha256;
}

/** Files and symlinks under root/dir (relative to root), not following symlinked folders. Missing → none. */
async function walk(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw error;
  });
  const out: string[] = [];
  for (const entry of entries) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await walk(root, rel)));
    else if (entry.isFile() || entry.isSymbolicLink()) out.push(rel);
  }
  return out.sort();
}
