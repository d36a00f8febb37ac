import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** A link found below a root: its root-relative path and where it points. */
export interface LinkFound {
  path: string;
  target: string;
}

type Component = { kind: 'dir' } | { kind: 'missing' } | { kind: 'other' } | { kind: 'link'; target: string };

function inspect(root: string, rel: string): Component {
  const full = join(root, rel);
  let info;
  try {
    info = lstatSync(full, { throwIfNoEntry: false });
  } catch (error) {
    // ENOTDIR: a file above it; the caller stops at that file anyway.
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return { kind: 'missing' };
    throw error;
  }
  if (info === undefined) return { kind: 'missing' };
  if (info.isSymbolicLink()) {
    let target = '?';
    try {
      target = readlinkSync(full);
    } catch {
      // gone since: still reported as the link it was
    }
    return { kind: 'link', target };
  }
  return info.isDirectory() ? { kind: 'dir' } : { kind: 'other' };
}

/** The components of `rel` from the top: `a/b/c` → `a`, `a/b`, `a/b/c`. */
function prefixes(rel: string): string[] {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/**
 * The first link among the folders above `rel` (its parent, the parent's parent, ... up to
 * the root, not the root itself and not `rel`), or null. A missing component or a file ends
 * the search: nothing below it can be reached through a link. Reads the disk every time
 * (use a TreeGuard to look at many paths of one tree at once).
 */
export function linkAbove(root: string, rel: string): LinkFound | null {
  const parents = prefixes(rel).slice(0, -1);
  for (const dir of parents) {
    const c = inspect(root, dir);
    if (c.kind === 'link') return { path: dir, target: c.target };
    if (c.kind !== 'dir') return null;
  }
  return null;
}

/** Like linkAbove, and `rel` itself too. */
export function linkAt(root: string, rel: string): LinkFound | null {
  const above = linkAbove(root, rel);
  if (above) return above;
  const self = prefixes(rel).at(-1);
  if (self === undefined) return null;
  const c = inspect(root, self);
  return c.kind === 'link' ? { path: self, target: c.target } : null;
}

/**
 * linkAbove / linkAt for many paths of one tree, each folder looked at once (17k state files
 * share a few folders). A snapshot of the moment: make a new guard to look again.
 */
export class TreeGuard {
  readonly root: string;
  readonly #seen = new Map<string, Component>();

  constructor(root: string) {
    this.root = root;
  }

  #component(rel: string): Component {
    let c = this.#seen.get(rel);
    if (c === undefined) {
      c = inspect(this.root, rel);
      this.#seen.set(rel, c);
    }
    return c;
  }

  linkAbove(rel: string): LinkFound | null {
    for (const dir of prefixes(rel).slice(0, -1)) {
      const c = this.#component(dir);
      if (c.kind === 'link') return { path: dir, target: c.target };
      if (c.kind !== 'dir') return null;
    }
    return null;
  }

  linkAt(rel: string): LinkFound | null {
    const above = this.linkAbove(rel);
    if (above) return above;
    const self = prefixes(rel).at(-1);
    if (self === undefined) return null;
    const c = this.#component(self);
    return c.kind === 'link' ? { path: self, target: c.target } : null;
  }
}
