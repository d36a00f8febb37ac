import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute } from 'node:path';
import { glob } from 'tinyglobby';
import { UsageError } from '../errors.ts';
import type { Policy } from '../policy/index.ts';
import type { Compression } from './create-archive.ts';

/** File name endings by compression; readers (checksums, restore, encryption) should accept all three. */
export const ARCHIVE_EXTENSIONS: Readonly<Record<Compression, string>> = Object.freeze({ gzip: '.tar.gz', zstd: '.tar.zst', none: '.tar' });

/** `<prefix>_<YYYYMMDD>.tar.gz` (or .tar.zst / .tar), the runbook's naming. */
export function archiveFileName(prefix: string, date: string, compression: Compression = 'gzip'): string {
  return `${prefix}_${date}${ARCHIVE_EXTENSIONS[compression]}`;
}

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
}

/** Expand the policy's data sets into one plan per archive, in policy order. Archives with nothing to hold are returned with empty `paths`. */
export async function planArchives(policy: Policy, root: string): Promise<ArchivePlan[]> {
  const plans: ArchivePlan[] = [];
  for (const [name, spec] of Object.entries(policy.archives)) {
    const patterns = Object.values(policy.datasets).filter((d) => d.archive === name).flatMap((d) => d.paths);
    const bases = new Set(patterns.map((p) => (isAbsolute(p) ? dirname(p.replace(/\/+$/, '')) : root)));
    if (bases.size > 1) {
      throw new UsageError(`policy: archive "${name}" mixes paths under different folders (${[...bases].join(', ')}); give each its own archive`);
    }
    const cwd = [...bases][0] ?? root;
    const found: string[] = [];
    const unmatched: string[] = [];
    for (const pattern of patterns) {
      const relativePattern = isAbsolute(pattern) ? `${basename(pattern.replace(/\/+$/, ''))}${pattern.endsWith('/') ? '/' : ''}` : pattern;
      const matches = await expand(cwd, relativePattern);
      if (matches.length === 0) unmatched.push(pattern);
      found.push(...matches);
    }
    plans.push({ name, prefix: spec.prefix, cwd, paths: dedupe(found), sensitive: spec.sensitive, compression: spec.compression, gzipLevel: spec.gzip_level, zstdLevel: spec.zstd_level, unmatched });
  }
  return plans;
}

async function expand(cwd: string, pattern: string): Promise<string[]> {
  if (!/[*?[\]{}]/.test(pattern)) return existsSync(`${cwd}/${pattern}`) ? [pattern] : [];
  const wantDirs = pattern.endsWith('/');
  const matches = await glob(pattern, { cwd, dot: true, onlyFiles: !wantDirs, onlyDirectories: wantDirs, expandDirectories: false });
  return matches.sort();
}

/** Sorted, unique, and without paths already inside a listed folder (tar would store them twice). */
function dedupe(paths: string[]): string[] {
  const unique = [...new Set(paths.map((p) => (p.endsWith('/') ? p : p)))].sort();
  return unique.filter((p) => !unique.some((other) => other !== p && other.endsWith('/') && p.startsWith(other)));
}
