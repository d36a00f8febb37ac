import { lstat, readdir, readlink } from 'node:fs/promises';
import { isAbsolute, posix } from 'node:path';
import { PolicyError } from '../errors.ts';
import { compileGlobSegment, type LinkFound } from '../tree/index.ts';

// The policy's real-time paths (`modules/*/state/*.toml`) matched like the runbook's bash
// loop matched them: relative to the root, `*`, `?` and `[...]` within one segment, a leading
// dot matched only by a leading dot (so a service's `.x.toml.tmp` never counts), regular files
// only (`[ -f ]`), and never through a link (a folder or a file that is a link is reported,
// not followed: the runbook's bash loop would have copied whatever it points at). One matcher serves the one-shot scan and the watcher's event filter, so the
// two can never disagree about what a state file is.

interface Segment {
  text: string;
  re: RegExp;
  literal: boolean;
}

export interface StatePatterns {
  readonly patterns: readonly string[];
  readonly compiled: readonly (readonly Segment[])[];
}

/** What the watcher does with a directory: filter file events (leaf) and/or re-scan on any change (structural). */
export interface WatchedDirRole {
  /** Matchers for file names directly inside this directory that are state files. */
  files: RegExp[];
  /** Sub-directories of it lead to state files: a new or renamed entry means re-scan. */
  structural: boolean;
}

export interface StateScan {
  /** Relative paths of the state files, sorted. */
  files: string[];
  /** Relative directories to watch ('' is the root). */
  dirs: Map<string, WatchedDirRole>;
  /** Links met where a state folder or file would be: not followed, sorted. */
  links: LinkFound[];
}

/** Compile `policy.realtime.paths`; PolicyError (exit 2) for what we cannot match faithfully. */
export function compileStatePatterns(patterns: readonly string[]): StatePatterns {
  const compiled = patterns.map((pattern) => {
    const problem = isAbsolute(pattern)
      ? 'must be relative to the Arkalia root (snapshots are named after the path under the root)'
      : pattern.endsWith('/')
        ? 'must name files (such as state/*.toml), not a folder'
        : /\*\*|[{}]/.test(pattern)
          ? 'supports *, ? and [...] within one path segment only (no ** or {a,b})'
          : pattern.split('/').some((s) => s === '' || s === '.' || s === '..')
            ? 'must not contain empty, "." or ".." segments'
            : null;
    if (problem) throw new PolicyError(`policy: realtime.paths entry ${JSON.stringify(pattern)} ${problem}`);
    return pattern.split('/').map(compileSegment);
  });
  return { patterns: [...patterns], compiled };
}

function compileSegment(text: string): Segment {
  const { re, literal } = compileGlobSegment(text);
  return { text, literal: literal !== null, re };
}

/** Is `rel` (a path under the root, `/`-separated) a state file name for these patterns? */
export function matchesStatePath(patterns: StatePatterns, rel: string): boolean {
  const parts = rel.split('/');
  return patterns.compiled.some((segs) => segs.length === parts.length && segs.every((s, i) => s.re.test(parts[i]!)));
}

/** The state files under `root` now, and the directories a watcher should watch. */
export async function scanStatePatterns(root: string, patterns: StatePatterns): Promise<StateScan> {
  const files = new Set<string>();
  const dirs = new Map<string, WatchedDirRole>();
  const links = new Map<string, LinkFound>();
  const role = (dir: string) => dirs.get(dir) ?? dirs.set(dir, { files: [], structural: false }).get(dir)!;

  async function walk(segs: readonly Segment[], depth: number, dir: string): Promise<void> {
    const seg = segs[depth]!;
    const last = depth === segs.length - 1;
    const here = role(dir);
    if (last) here.files.push(seg.re);
    else here.structural = true;
    for (const name of await childrenMatching(root, dir, seg)) {
      const rel = dir === '' ? name : `${dir}/${name}`;
      const info = await lstat(posix.join(root, rel)).catch(() => null);
      if (info?.isSymbolicLink()) {
        links.set(rel, { path: rel, target: await readlink(posix.join(root, rel)).catch(() => '?') });
      } else if (last) {
        if (info?.isFile()) files.add(rel);
      } else if (info?.isDirectory()) {
        await walk(segs, depth + 1, rel);
      }
    }
  }

  for (const segs of patterns.compiled) await walk(segs, 0, '');
  return { files: [...files].sort(), dirs, links: [...links.values()].sort((a, b) => (a.path < b.path ? -1 : 1)) };
}

async function childrenMatching(root: string, dir: string, seg: Segment): Promise<string[]> {
  if (seg.literal) return [seg.text];
  const names = await readdir(posix.join(root, dir)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [] as string[];
    throw error;
  });
  return names.filter((n) => seg.re.test(n)).sort();
}

/** What a snapshot run says of a link where a state folder or file would be. */
export function describeSkippedLink(link: LinkFound): string {
  return `${link.path} is a link (to ${link.target}): not followed, not snapshotted`;
}
