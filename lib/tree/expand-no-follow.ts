import { type Dirent, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { compileGlobSegment } from './glob-segment.ts';
import type { LinkFound } from './tree-guard.ts';

export interface Expansion {
  /** Root-relative matches, sorted: files, and folders with a trailing "/" when the pattern ends with one. */
  matches: string[];
  /** Links met where the pattern would have gone on (or matched): never followed, named. */
  links: LinkFound[];
}

interface Segment {
  any: boolean; // "**"
  re: RegExp;
  literal: string | null;
}

/**
 * The paths under `root` a data set pattern names (`modules/*\/state/`, `state/*.json`,
 * `Dockerfile*`, `.env`, `config/**\/*.toml`), found with lstat and folder listings only: a link is never followed,
 * whether it stands for a folder the pattern goes through or is itself a match; each one met is
 * reported instead. `*`, `?` and `[...]` match within one segment, `**` any number of folders;
 * a trailing "/" names folders. `dot`: whether wildcards match names starting with a dot.
 */
export function expandNoFollow(root: string, pattern: string, options: { dot?: boolean } = {}): Expansion {
  const wantDir = pattern.endsWith('/');
  const segments = pattern
    .replace(/\/+$/, '')
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .map((s) => compile(s, options.dot ?? false));
  const matches = new Set<string>();
  const links = new Map<string, LinkFound>();

  type Kind = 'dir' | 'file' | 'link' | 'other';
  const linkMet = (rel: string): 'link' => {
    let target = '?';
    try {
      target = readlinkSync(join(root, rel));
    } catch {
      // gone since
    }
    links.set(rel, { path: rel, target });
    return 'link';
  };
  const kindOf = (rel: string): Kind | null => {
    const info = lstatSync(join(root, rel), { throwIfNoEntry: false });
    if (info === undefined) return null;
    if (info.isSymbolicLink()) return linkMet(rel);
    return info.isDirectory() ? 'dir' : info.isFile() ? 'file' : 'other';
  };
  // What a folder's listing says each entry is (d_type; Node lstat's it where the file system
  // does not say): no lstat per entry (12.8k state files: ~50 ms). Listed once per folder.
  const listings = new Map<string, Dirent[]>();
  const children = (rel: string): Dirent[] => {
    let listed = listings.get(rel);
    if (listed !== undefined) return listed;
    try {
      listed = readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
      );
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      listed = [];
    }
    listings.set(rel, listed);
    return listed;
  };
  const kindIn = (rel: string, entry: Dirent): Kind =>
    entry.isSymbolicLink() ? linkMet(rel) : entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : 'other';
  const at = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);

  const visit = (dir: string, i: number): void => {
    if (i === segments.length) return;
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (seg.any) {
      visit(dir, i + 1); // zero folders
      for (const entry of children(dir)) {
        if (!seg.re.test(entry.name)) continue;
        const rel = at(dir, entry.name);
        if (kindIn(rel, entry) === 'dir') visit(rel, i); // one more
      }
      return;
    }
    const found: [string, Kind | null][] =
      seg.literal !== null
        ? [[at(dir, seg.literal), kindOf(at(dir, seg.literal))]]
        : children(dir)
            .filter((e) => seg.re.test(e.name))
            .map((e) => [at(dir, e.name), kindIn(at(dir, e.name), e)]);
    for (const [rel, kind] of found) {
      if (kind === null || kind === 'link' || kind === 'other') continue;
      if (!last) {
        if (kind === 'dir') visit(rel, i + 1);
      } else if (wantDir ? kind === 'dir' : true) {
        matches.add(kind === 'dir' && wantDir ? `${rel}/` : rel);
      }
    }
  };
  visit('', 0);
  return { matches: [...matches].sort(), links: [...links.values()].sort((a, b) => (a.path < b.path ? -1 : 1)) };
}

/**
 * The same patterns as expandNoFollow, matched against paths already found (a walk that did
 * not follow links either) instead of the disk: whether `rel` (a file, root-relative) is one
 * of the files some pattern names. Compiled once, no I/O.
 */
export function pathMatcher(patterns: readonly string[], options: { dot?: boolean } = {}): (rel: string) => boolean {
  const compiled = patterns
    .filter((p) => !p.endsWith('/')) // a pattern naming folders names no file
    .map((p) =>
      p
        .split('/')
        .filter((s) => s !== '' && s !== '.')
        .map((s) => compile(s, options.dot ?? false)),
    );
  const matchFrom = (segments: Segment[], parts: string[], i: number, j: number): boolean => {
    if (i === segments.length) return j === parts.length;
    const seg = segments[i]!;
    if (seg.any) {
      if (matchFrom(segments, parts, i + 1, j)) return true; // zero folders
      // one more folder (never the file itself: "**" stands for folders)
      return j < parts.length - 1 && seg.re.test(parts[j]!) && matchFrom(segments, parts, i, j + 1);
    }
    return j < parts.length && seg.re.test(parts[j]!) && matchFrom(segments, parts, i + 1, j + 1);
  };
  return (rel) => {
    const parts = rel.split('/');
    return compiled.some((segments) => matchFrom(segments, parts, 0, 0));
  };
}

function compile(text: string, dot: boolean): Segment {
  if (text === '**') return { any: true, re: dot ? /^[^/]*$/ : /^(?!\.)[^/]*$/, literal: null };
  const { re, literal } = compileGlobSegment(text, { dot });
  return { any: false, re, literal };
}
