import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';

/** One entry of a tree, read without following any link. */
export type RootEntry =
  | { kind: 'dir'; rel: string; stats: Stats }
  | { kind: 'file'; rel: string; stats: Stats }
  | { kind: 'link'; rel: string; stats: Stats; target: string; escapes: boolean }
  | { kind: 'special'; rel: string; stats: Stats }
  /** Listed by its folder, gone before it could be read (a live tree is being written). */
  | { kind: 'vanished'; rel: string };

/**
 * Every entry under `root`, parents before children, in name order, with lstat: a link is
 * reported as a link (and whether it leads out of the tree), never followed. Unreadable
 * folders throw (EACCES), as they must: a copy that silently lacks a folder proves nothing.
 */
export async function* walkRoot(root: string, rel = ''): AsyncGenerator<RootEntry> {
  let entries: Dirent[];
  try {
    entries = await readdir(join(root, rel), { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || rel === '') throw error;
    yield { kind: 'vanished', rel };
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    const path = join(root, childRel);
    const stats = await lstat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (stats === null) {
      yield { kind: 'vanished', rel: childRel };
    } else if (stats.isSymbolicLink()) {
      const target = await readlink(path);
      yield { kind: 'link', rel: childRel, stats, target, escapes: linkEscapes(childRel, target) };
    } else if (stats.isDirectory()) {
      yield { kind: 'dir', rel: childRel, stats };
      yield* walkRoot(root, childRel);
    } else if (stats.isFile()) {
      yield { kind: 'file', rel: childRel, stats };
    } else {
      yield { kind: 'special', rel: childRel, stats };
    }
  }
}

/**
 * True when a link at `rel` (relative to the tree) with this target leads out of the tree:
 * an absolute target always does (in a copy it would still point at the original), a
 * relative one when it climbs above the tree's top.
 */
export function linkEscapes(rel: string, target: string): boolean {
  if (posix.isAbsolute(target)) return true;
  const resolved = posix.normalize(posix.join(posix.dirname(rel), target));
  return resolved === '..' || resolved.startsWith('../');
}
