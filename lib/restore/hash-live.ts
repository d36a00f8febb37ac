import { lstatSync } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sha256File } from '../checksum/index.ts';
import { LinkInTreeError, TreeGuard, walkNoFollow, type LinkFound } from '../tree/index.ts';

/**
 * root-relative path → sha256 of the live files a restore may touch: every file under the
 * mirrored folders, and the live counterpart of every staged path. Nothing is followed: a
 * link where a file should be counts as `symlink:<target>` (it is replaced like a file, and
 * kept as the previous version); a link where the backup has a folder (a mirrored folder, or
 * a folder above a staged file) refuses the restore (LinkInTreeError, exit 3) before anything
 * changes, naming every such link. A folder where a file should be counts as absent (the swap
 * will then fail and roll back, not merge).
 *
 * `known`: files whose content was compared byte for byte moments ago (a restore's staging
 * found them already right: StagedFile.live) → that sha256, taken without reading them again.
 * Only for a plan that is redone before anything changes: the swap's own pass reads every file.
 */
export async function hashLive(
  root: string,
  stagedPaths: Iterable<string>,
  mirrorDirs: readonly string[],
  known: ReadonlyMap<string, string> = new Map(),
): Promise<Map<string, string>> {
  const guard = new TreeGuard(root);
  const links = new Map<string, LinkFound>();
  const out = new Map<string, string>();
  const folders = new Map<string, boolean>();
  const folderThere = (dir: string): boolean => {
    let there = folders.get(dir);
    if (there === undefined) folders.set(dir, (there = dir === '.' || present(join(root, dir))));
    return there;
  };
  for (const dir of mirrorDirs) {
    const link = guard.linkAt(dir);
    if (link) {
      links.set(link.path, link);
      continue;
    }
    for (const entry of walkNoFollow(root, dir))
      out.set(
        entry.path,
        entry.kind === 'link'
          ? `symlink:${entry.target}`
          : (known.get(entry.path) ?? (await sha256File(join(root, entry.path))).sha256),
      );
  }
  for (const path of stagedPaths) {
    if (out.has(path)) continue;
    const link = guard.linkAbove(path);
    if (link) {
      links.set(link.path, link);
      continue;
    }
    const sha256 = known.get(path);
    if (sha256 !== undefined) {
      out.set(path, sha256);
      continue;
    }
    // A recovery into an empty root: 17k absent files, no error object each, and one look per folder.
    if (!folderThere(dirname(path)) || !present(join(root, path))) continue;
    const sha = await digest(join(root, path)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR' || error.code === 'EISDIR') return null;
      throw error;
    });
    if (sha !== null) out.set(path, sha);
  }
  if (links.size > 0)
    throw new LinkInTreeError(
      root,
      [...links.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
    );
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
  if (info.isSymbolicLink()) {
    return `symlink:${await readlink(path)}`;
  }
  if (!info.isFile()) throw Object.assign(new Error(`${path} is not a file`), { code: 'EISDIR' });
  return (await sha256File(path)).sha256;
}
