import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** A file or a link found by walkNoFollow (root-relative path); folders are walked, not listed. */
export type TreeEntry = { kind: 'file'; path: string } | { kind: 'link'; path: string; target: string };

/**
 * Every file and link under `root/dir` (root-relative paths, sorted), never following a link:
 * a link is an entry of its own, whatever it points at; `dir` missing (or not a folder) gives
 * none. Synchronous: it serves restore planning, where nothing else runs and thousands of
 * small lstat calls cost less without a thread-pool round trip each. The caller checks `dir`
 * itself and its parents (TreeGuard): this starts below them.
 */
export function walkNoFollow(root: string, dir: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const walk = (rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(join(root, rel));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw error;
    }
    for (const name of names.sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const info = lstatSync(join(root, path), { throwIfNoEntry: false });
      if (info === undefined) continue; // gone since readdir
      if (info.isSymbolicLink()) out.push({ kind: 'link', path, target: readlinkSync(join(root, path)) });
      else if (info.isDirectory()) walk(path);
      else if (info.isFile()) out.push({ kind: 'file', path });
    }
  };
  walk(dir.replace(/\/+$/, ''));
  return out;
}
