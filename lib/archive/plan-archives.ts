import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute } from 'node:path';
import { glob } from 'tinyglobby';
import { UsageError } from '../errors.ts';
import type { Policy } from '../policy/index.ts';
import { expandNoFollow, type LinkFound } from '../tree/index.ts';
import type { Compression } from '../layout/index.ts';

export interface ArchivePlan {
  /** Key under [archives], e.g. "states". */
  name: string;
  prefix: string;
  /** tar's -C: the Arkalia root, or the parent of an absolute data set path (models). */
  cwd: string;
  /** Member paths relative to cwd, deduplicated (nothing inside another listed folder). */
  paths: string[];
  sensitive: boolean;
  compression: Compression;
  gzipLevel: number;
  zstdLevel: number;
  /** Patterns that matched nothing (the runbook's `2>/dev/null`), reported, not fatal. */
  unmatched: string[];
  /** Links under the root where a data set's folder or file would be: never followed nor archived, reported. */
  links: LinkFound[];
}

/**
 * Expand the policy's data sets into one plan per archive, in policy order. Archives with
 * nothing to hold are returned with empty `paths`. Paths under the root are matched without
 * following any link (a link planted where `modules/zeroia/state/` should be would otherwise
 * put whatever it points at into the backup): each link met is listed instead. A data set the
 * operator gave as an absolute path (the models folder) is taken as given.
 */
export async function planArchives(policy: Policy, root: string): Promise<ArchivePlan[]> {
  const plans: ArchivePlan[] = [];
  for (const [name, spec] of Object.entries(policy.archives)) {
    const patterns = Object.values(policy.datasets)
      .filter((d) => d.archive === name)
      .flatMap((d) => d.paths);
    const bases = new Set(patterns.map((p) => (isAbsolute(p) ? dirname(p.replace(/\/+$/, '')) : root)));
    if (bases.size > 1) {
      throw new UsageError(
        `policy: archive "${name}" mixes paths under different folders (${[...bases].join(', ')}); give each its own archive`,
      );
    }
    const cwd = [...bases][0] ?? root;
    const found: string[] = [];
    const unmatched: string[] = [];
    const links = new Map<string, LinkFound>();
    // A pattern inside a folder pattern of the same archive (`state/*.json` beside `state/`,
    // `modules/*/state/*.json` beside `modules/*/state/`) can only name what that folder
    // already holds: not expanded (with thousands of state files, that walk is most of the plan).
    const folders = patterns.filter((p) => p.endsWith('/') && !isAbsolute(p));
    for (const pattern of patterns) {
      if (!pattern.endsWith('/') && folders.some((folder) => pattern.startsWith(folder))) continue;
      let matches: string[];
      if (isAbsolute(pattern)) {
        matches = await expand(cwd, `${basename(pattern.replace(/\/+$/, ''))}${pattern.endsWith('/') ? '/' : ''}`);
      } else {
        const expansion = expandNoFollow(root, pattern, { dot: true });
        matches = expansion.matches;
        for (const link of expansion.links) links.set(link.path, link);
      }
      if (matches.length === 0 && !expansionHitLink(pattern, links)) unmatched.push(pattern);
      found.push(...matches);
    }
    plans.push({
      name,
      prefix: spec.prefix,
      cwd,
      paths: dedupe(found),
      sensitive: spec.sensitive,
      compression: spec.compression,
      gzipLevel: spec.gzip_level,
      zstdLevel: spec.zstd_level,
      unmatched,
      links: [...links.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
    });
  }
  return plans;
}

async function expand(cwd: string, pattern: string): Promise<string[]> {
  if (!/[*?[\]{}]/.test(pattern)) return existsSync(`${cwd}/${pattern}`) ? [pattern] : [];
  const wantDirs = pattern.endsWith('/');
  const matches = await glob(pattern, {
    cwd,
    dot: true,
    onlyFiles: !wantDirs,
    onlyDirectories: wantDirs,
    expandDirectories: false,
  });
  return matches.sort();
}

/** A literal pattern (`state/`, `.env`) that matched nothing because a link stands there: reported as the link, not as "not present". */
function expansionHitLink(pattern: string, links: ReadonlyMap<string, LinkFound>): boolean {
  const bare = pattern.replace(/\/+$/, '');
  return [...links.keys()].some((l) => bare === l || bare.startsWith(`${l}/`));
}

/** Sorted, unique, and without paths already inside a listed folder (tar would store them twice). */
function dedupe(paths: string[]): string[] {
  const unique = [...new Set(paths)].sort();
  // Compared with the folders only (a few), not with every path: `state/*.json` alone can match thousands.
  const folders = unique.filter((p) => p.endsWith('/'));
  return unique.filter((p) => !folders.some((folder) => folder !== p && p.startsWith(folder)));
}
