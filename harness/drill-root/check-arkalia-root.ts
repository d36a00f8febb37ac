import { lstat, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../../lib/errors.ts';
import { walkRoot, type RootEntry } from './walk-root.ts';

/** The names Docker Compose looks for in a project folder. */
export const COMPOSE_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'] as const;

export interface ArkaliaRootFacts {
  /** The tree's real path (the argument may be a link to it). */
  root: string;
  files: number;
  bytes: number;
  /** Sockets, FIFOs and devices: not copied (a drill cannot use them), named so nobody wonders. */
  skipped: string[];
}

const SHAPE =
  'an Arkalia root holds modules/<module>/state/, state/, config/, .env, version.toml and docker-compose.yml';

/**
 * Refuse, by name and before anything starts, a drill source that is not an Arkalia root:
 * missing, not a folder, no modules/ folder or no compose file, unreadable, or holding links
 * that lead out of the tree (a drill's copy would write through them into the original).
 * Reads only.
 */
export async function checkArkaliaRoot(dir: string, flag = '--root-from'): Promise<ArkaliaRootFacts> {
  const info = await stat(dir).catch(() => null);
  if (!info) throw new UsageError(`${flag} ${dir}: no such folder`);
  if (!info.isDirectory()) throw new UsageError(`${flag} ${dir} is not a folder`);
  const root = await realpath(dir);
  const modules = await lstat(join(root, 'modules')).then(
    (s) => s.isDirectory(),
    () => false,
  );
  const compose = await hasComposeFile(root);
  if (!modules || !compose) {
    const lacks = [!modules && 'no modules/ folder', !compose && 'no docker-compose.yml'].filter(Boolean).join(' and ');
    throw new UsageError(`${flag} ${dir} is not an Arkalia root: it has ${lacks} (${SHAPE})`);
  }
  const facts: ArkaliaRootFacts = { root, files: 0, bytes: 0, skipped: [] };
  const escaping: RootEntry[] = [];
  try {
    for await (const entry of walkRoot(root)) {
      if (entry.kind === 'file') {
        facts.files += 1;
        facts.bytes += entry.stats.size;
      } else if (entry.kind === 'special') facts.skipped.push(entry.rel);
      else if (entry.kind === 'link' && entry.escapes) escaping.push(entry);
    }
  } catch (error) {
    throw unreadable(flag, dir, error);
  }
  if (escaping.length > 0) throw escapingLinks(flag, dir, escaping);
  return facts;
}

async function hasComposeFile(root: string): Promise<boolean> {
  for (const name of COMPOSE_FILES)
    if (
      await lstat(join(root, name)).then(
        (s) => s.isFile(),
        () => false,
      )
    )
      return true;
  return false;
}

/** Links out of the tree, named (at most five), and what to do instead. */
export function escapingLinks(flag: string, dir: string, links: readonly RootEntry[]): UsageError {
  const named = links.slice(0, 5).map((l) => `${l.rel} -> ${l.kind === 'link' ? l.target : '?'}`);
  const more = links.length > 5 ? `, and ${links.length - 5} more` : '';
  return new UsageError(
    `${flag} ${dir}: ${links.length} link(s) lead out of the tree, and a drill's copy would write through them into what they point at: ${named.join(', ')}${more}. Drill a self-contained copy instead (cp -a --dereference, or replace the links by the folders they point at).`,
    { details: { links: links.map((l) => l.rel) } },
  );
}

/** An unreadable folder or file, as a usage error naming it (EACCES as a root-owned tree read by a user). */
export function unreadable(flag: string, dir: string, error: unknown): UsageError {
  const e = error as NodeJS.ErrnoException;
  const where = e.path ?? dir;
  return new UsageError(
    `${flag} ${dir}: cannot read ${where} (${e.code ?? e.message}); a drill needs the whole tree (run as a user who can read it)`,
    { cause: error },
  );
}
