import { isAbsolute, posix } from 'node:path';
import { extract, list, type ReadEntry } from 'tar';
import { IntegrityError } from '../errors.ts';

export interface ArchiveMember {
  path: string;
  type: string;
  size: number;
}

export interface Refusal {
  entry: string;
  reason: string;
}

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory']);

/** Member path as GNU tar shows it: no leading "./". */
export function memberPath(path: string): string {
  return path.replace(/^(\.\/)+/, '');
}

/**
 * Why an entry must not be extracted, or null if it is safe: nothing outside the target
 * (absolute paths, ".."), no links, devices or FIFOs. Someone who can write the backup folder
 * can rewrite the checksum file too, so this holds even for archives that verified.
 */
export function refusalReason(entry: Pick<ReadEntry, 'path' | 'type'>): string | null {
  const path = memberPath(entry.path);
  if (isAbsolute(entry.path)) return 'absolute path';
  if (path.split('/').includes('..') || posix.normalize(path).startsWith('..')) return 'path escapes the target ("..")';
  if (!ALLOWED_TYPES.has(entry.type)) return `entry type ${entry.type} is not restored`;
  return null;
}

/** List members (strict: a truncated or corrupt archive throws an IntegrityError). */
export async function listArchive(file: string): Promise<ArchiveMember[]> {
  const members: ArchiveMember[] = [];
  try {
    await list({
      file,
      strict: true,
      onReadEntry: (entry) => {
        members.push({ path: memberPath(entry.path), type: entry.type, size: entry.size ?? 0 });
      },
    });
  } catch (error) {
    throw corrupt(file, error);
  }
  return members;
}

export interface ExtractOptions {
  file: string;
  /** Target folder; it must exist. Nothing is written outside it. */
  cwd: string;
  /** Which (safe) member paths to extract. */
  select?: (path: string) => boolean;
  onRefused?: (refusal: Refusal) => void;
}

/**
 * Extract selected members into `cwd`. Unsafe entries are refused and reported, never written;
 * setuid/setgid/sticky bits are dropped. A truncated or corrupt archive throws IntegrityError.
 */
export async function extractArchive(options: ExtractOptions): Promise<{ extracted: string[]; refused: Refusal[] }> {
  const extracted: string[] = [];
  const refused: Refusal[] = [];
  try {
    await extract({
      file: options.file,
      cwd: options.cwd,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      filter: (path, entry) => {
        const readEntry = entry as ReadEntry;
        const reason = refusalReason({ path, type: readEntry.type });
        if (reason !== null) {
          const refusal = { entry: path, reason };
          refused.push(refusal);
          options.onRefused?.(refusal);
          return false;
        }
        const member = memberPath(path);
        if (options.select && !options.select(member)) return false;
        if (typeof readEntry.mode === 'number') readEntry.mode &= 0o777;
        extracted.push(member);
        return true;
      },
    });
  } catch (error) {
    throw corrupt(options.file, error);
  }
  return { extracted, refused };
}

function corrupt(file: string, error: unknown): IntegrityError {
  const message = error instanceof Error ? error.message : String(error);
  return new IntegrityError('ARCHIVE_CORRUPT', `${file} cannot be read as a gzip tarball: ${message}`, { cause: error });
}
