import { isAbsolute } from 'node:path';
import { NotFoundError, type ArkError } from '../errors.ts';
import type { Policy } from '../policy/index.ts';
import { compileGlobSegment } from '../tree/index.ts';

// What part of the Arkalia tree a restore covers: one module's state folder (emergency
// restore) or the states, configs and infra data sets (disaster recovery). Patterns are the
// policy's data set paths: relative to the root, `*` `?` `[...]` within one segment, a
// trailing "/" for a folder (and everything under it), as GNU tar was given them.

export interface ScopeArchive {
  /** Key under the policy's [archives], e.g. "states". */
  name: string;
  /** A backup without it is rejected; an optional one is skipped with a warning. */
  required: boolean;
}

export interface RestoreScope {
  /** For messages: "state of zeroia", "states, configs and infra". */
  label: string;
  archives: readonly ScopeArchive[];
  /** Root-relative patterns: a member or live file under one of them is in scope. */
  paths: readonly string[];
  /**
   * Folder patterns restored exactly: for each concrete folder the backup holds (say
   * modules/zeroia/state/), live files it does not hold are removed (after being preserved).
   * Elsewhere the backup's files are laid over the live tree and nothing else is removed.
   */
  mirror: readonly string[];
  /** Name of the folder under <backup-dir>/preserved/ ("zeroia_state", "system") and the prefix stripped inside it. */
  preserveName: string;
  preserveBase: string;
  /**
   * Whether the scope takes its archives whole (disaster recovery), so that their declared
   * tar bytes are what staging needs, not just an upper bound (one module's state).
   */
  wholeArchives: boolean;
  /** The error when a backup holds nothing in scope. */
  missing(backupLabel: string, archiveFile: string): ArkError;
}

export const moduleStatePrefix = (module: string): string => `modules/${module}/state/`;

/** emergency-restore: modules/<module>/state/, restored exactly. */
export function moduleStateScope(module: string): RestoreScope {
  const prefix = moduleStatePrefix(module);
  return {
    label: `state of ${module}`,
    archives: [{ name: 'states', required: true }],
    paths: [prefix],
    mirror: [prefix],
    preserveName: `${module}_state`,
    preserveBase: prefix,
    wholeArchives: false,
    missing: (backup, archive) =>
      new NotFoundError(
        'MODULE_NOT_IN_BACKUP',
        `backup ${backup} holds no state for module "${module}" (no ${prefix} in ${archive})`,
      ),
  };
}

/** disaster-recovery: the given data sets (default states, configs, infra); state folders restored exactly. */
export function systemScope(
  policy: Policy,
  datasets: readonly string[] = ['states', 'configs', 'infra', 'database'],
): RestoreScope {
  const chosen = datasets.map((name) => [name, policy.datasets[name]] as const).filter(([, d]) => d !== undefined);
  const relative = (paths: readonly string[]) => paths.filter((p) => !isAbsolute(p));
  const archives = [...new Set(chosen.map(([, d]) => d!.archive))];
  // A state folder is what the real-time data sets hold (modules/*/state/, state/, global_state/).
  const mirror = chosen
    .filter(([, d]) => d!.frequency === 'realtime')
    .flatMap(([, d]) => relative(d!.paths).filter((p) => p.endsWith('/')));
  return {
    label: `${chosen.map(([name]) => name).join(', ')}`,
    archives: archives.map((name) => ({
      name,
      required: chosen.some(([, d]) => d!.archive === name && d!.criticality === 'critical'),
    })),
    paths: chosen.flatMap(([, d]) => relative(d!.paths)),
    mirror,
    preserveName: 'system',
    preserveBase: '',
    wholeArchives: true,
    missing: (backup, archive) =>
      new NotFoundError(
        'NOTHING_IN_BACKUP',
        `backup ${backup} holds nothing to restore (no ${chosen.map(([n]) => n).join(', ')} data in ${archive})`,
      ),
  };
}

interface Compiled {
  segments: RegExp[];
  /** The answer per first-segments prefix: a restore asks for each of 17k paths, most in a few folders. */
  prefixes: Map<string, string | null>;
}

const cache = new Map<string, Compiled>();
const PREFIXES_KEPT = 4096;

function compile(pattern: string): Compiled {
  let compiled = cache.get(pattern);
  if (!compiled) {
    const segments = pattern
      .replace(/\/+$/, '')
      .split('/')
      .map((segment) => compileGlobSegment(segment).re);
    compiled = { segments, prefixes: new Map() };
    cache.set(pattern, compiled);
  }
  return compiled;
}

/**
 * The concrete path a pattern matched at the start of `path` ("modules/zeroia/state" for
 * modules/zeroia/state/x.toml and modules/*\/state/), or null. A pattern matches a path equal
 * to it or under it, as tar recursed into what it was given. The answer depends only on as
 * many leading segments as the pattern has: it is worked out once per such prefix.
 */
export function matchPrefix(pattern: string, path: string): string | null {
  const compiled = compile(pattern);
  const trimmed = path.endsWith('/') ? path.replace(/\/+$/, '') : path;
  let end = -1;
  for (let i = 0; i < compiled.segments.length; i++) {
    if (end === trimmed.length) return null; // fewer segments than the pattern
    const slash = trimmed.indexOf('/', end + 1);
    end = slash === -1 ? trimmed.length : slash;
  }
  const prefix = trimmed.slice(0, end);
  let found = compiled.prefixes.get(prefix);
  if (found === undefined) {
    const parts = prefix.split('/');
    found = compiled.segments.every((re, i) => re.test(parts[i]!)) ? prefix : null;
    if (compiled.prefixes.size >= PREFIXES_KEPT) compiled.prefixes.clear();
    compiled.prefixes.set(prefix, found);
  }
  return found;
}

/** Is a root-relative path (a member or a live file) in the scope? */
export function inScope(scope: Pick<RestoreScope, 'paths'>, path: string): boolean {
  return path !== '' && scope.paths.some((p) => matchPrefix(p, path) !== null);
}

/** The concrete folders (with a trailing "/") the backup holds for the scope's mirror patterns. */
export function mirrorDirs(scope: Pick<RestoreScope, 'mirror'>, stagedPaths: Iterable<string>): string[] {
  const dirs = new Set<string>();
  for (const path of stagedPaths) {
    for (const pattern of scope.mirror) {
      const dir = matchPrefix(pattern, path);
      if (dir !== null) dirs.add(`${dir}/`);
    }
  }
  return [...dirs].sort();
}
