// Test helpers for drill roots (not used by the drills themselves).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { walkRoot } from './walk-root.ts';

/**
 * One sha256 over everything a drill could change in a tree: each entry's path, kind, mode,
 * mtime, content (files) and target (links). Equal before and after = the tree was only read.
 */
export async function fingerprintTree(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const entry of walkRoot(dir)) {
    if (entry.kind === 'vanished') continue;
    hash.update(`${entry.kind}\0${entry.rel}\0${entry.stats.mode}\0${entry.stats.mtimeMs}\0`);
    if (entry.kind === 'file') hash.update(await readFile(join(dir, entry.rel)));
    if (entry.kind === 'link') hash.update(entry.target);
    hash.update('\n');
  }
  return hash.digest('hex');
}
