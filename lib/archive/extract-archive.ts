import { type FileHandle, open as openFile } from 'node:fs/promises';
import { basename, isAbsolute, posix } from 'node:path';
import type { Duplex, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { diskFailureOf, IntegrityError } from '../errors.ts';
import { ExtractBudget } from './extract-limits.ts';
import { openArchiveStream } from './open-archive-stream.ts';
import { readRuns } from './read-runs.ts';
import { type BodyTaker, type TarReader, type TarReaderHooks, tarReader } from './tar-reader.ts';
import {
  FileSink,
  finishBig,
  placeEntry,
  setFolderTime,
  SMALL_FILE,
  WRITE_FLAGS,
  writeAll,
  writeEntry,
  writeSmall,
  type FileMeta,
  type Written,
} from './write-member.ts';
import type { SegmentRecord } from './segments.ts';

export interface ArchiveMember {
  path: string;
  type: string;
  size: number;
}

export interface Refusal {
  entry: string;
  reason: string;
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
// Metadata entries tar itself consumes; they never reach the disk.
const META_TYPES = new Set([
  'ExtendedHeader',
  'GlobalExtendedHeader',
  'NextFileHasLongPath',
  'NextFileHasLongLinkpath',
  'OldGnuLongPath',
]);

/** Member path as GNU tar shows it: no leading "./". */
export function memberPath(path: string): string {
  return path.replace(/^(\.\/)+/, '');
}

/**
 * Why an entry must not be extracted, or null if it is safe: nothing outside the target
 * (absolute paths, ".."), no links of any kind (even ones pointing inside: a link is never
 * needed to restore Arkalia's state, and refusing them all leaves nothing to get wrong),
 * no devices or FIFOs. Someone who can write the backup folder can rewrite the checksum
 * file too, so this holds even for archives that verified.
 */
export function refusalReason(entry: { path: string; type: string }): string | null {
  const path = memberPath(entry.path);
  if (isAbsolute(entry.path)) return 'absolute path';
  if (path.split('/').includes('..') || posix.normalize(path).startsWith('..')) return 'path escapes the target ("..")';
  if (path.includes('\0')) return 'NUL byte in the path';
  if (!FILE_TYPES.has(entry.type) && entry.type !== 'Directory') return `entry type ${entry.type} is not restored`;
  if (entry.type !== 'Directory' && path.endsWith('/')) return 'file entry named like a folder';
  return null;
}

/** List members (strict: a truncated or corrupt archive throws an IntegrityError), within the default caps. */
export async function listArchive(file: string, budget: ExtractBudget = new ExtractBudget()): Promise<ArchiveMember[]> {
  const members: ArchiveMember[] = [];
  const name = basename(file);
  const parser = new Parser({ strict: true });
  let failure: unknown = null;
  let current = '(archive header)';
  parser.on('entry', (entry: ReadEntry) => {
    current = entry.path;
    try {
      budget.admitEntry(name, entry.path, entry.size ?? 0);
    } catch (error) {
      failure ??= error;
      stream.source.destroy(error as Error);
    }
    members.push({ path: memberPath(entry.path), type: entry.type, size: entry.size ?? 0 });
    entry.resume();
  });
  const stream = await openArchiveStream(file, budget, () => current);
  try {
    await pipeline(stream.source, ...stream.stages, parser);
  } catch (error) {
    failure ??= error;
  }
  if (failure !== null)
    throw failure instanceof IntegrityError || diskFailureOf(failure) ? failure : corrupt(file, failure);
  return members;
}

export interface ExtractOptions {
  file: string;
  /** Target folder; it must exist. Nothing is written outside it. */
  cwd: string;
  /** Which (safe) member paths to extract. */
  select?: (path: string) => boolean;
  onRefused?: (refusal: Refusal) => void;
  /** Caps shared by every archive of one restore (default: a fresh budget with the default caps). */
  budget?: ExtractBudget;
  /** Give files the archive's owner, as GNU tar does for root (default: when running as root). */
  sameOwner?: boolean;
  signal?: AbortSignal;
  /**
   * Called once per file written whole, with the sha256 of the bytes written (hashed on the
   * way to the disk: no second read) and, where `keepContent(path)` says so, the bytes.
   * A member the archive holds twice is reported twice, in order: the last one is on disk.
   * A promise it returns holds back the archive (backpressure) until it settles; its
   * rejection fails the extraction.
   */
  onFile?: (path: string, file: ExtractedFile, content: Buffer | null) => void | Promise<void>;
  keepContent?: (path: string) => boolean;
  /**
   * Where a file may already hold a member's bytes (the live tree), or null: a regular file
   * of up to 1 MiB found there with exactly the member's bytes is not written (restic's
   * `--overwrite if-changed`), and onFile is told `written: false`. Nothing there is followed,
   * written or created; a folder, link or other entry there does not count.
   */
  sameAs?: (path: string) => string | null;
  /** Told the archive's bytes read so far (compressed), as it is read: for progress. */
  onRead?: (bytes: number) => void;
  /** Read only these runs of the archive (read-runs.ts: runsHolding), each checked against its index entry. */
  runs?: readonly SegmentRecord[];
}

export interface ExtractedFile {
  sha256: string;
  bytes: number;
  /** False: `sameAs` held these very bytes, so nothing was written to cwd. */
  written: boolean;
}

/**
 * Extract selected members into `cwd`, writing each file ourselves: never through a symlink
 * (O_NOFOLLOW, and every parent folder is checked), never a link, device or FIFO, never a
 * setuid/setgid/sticky bit. Unsafe entries are refused and reported. The whole archive is
 * decompressed under the budget's caps (bytes, entries, ratio): past one, ARCHIVE_LIMIT_EXCEEDED.
 * A truncated or corrupt archive throws IntegrityError — and only after every write already
 * started has finished, so a caller's cleanup never races with files still appearing.
 *
 * Plain members (tar-reader.ts) are read by our own lane, one after the other, each file's
 * bytes sliced from the decompressed chunks; from the first member that is not plain on,
 * node-tar's strict parser reads the rest. `how.plainLane: false` (tests: the two lanes give
 * the same result) sends every member to node-tar.
 */
export async function extractArchive(
  options: ExtractOptions,
  how: { plainLane: boolean } = { plainLane: true },
): Promise<{ extracted: string[]; refused: Refusal[] }> {
  const budget = options.budget ?? new ExtractBudget();
  const name = basename(options.file);
  const sameOwner = options.sameOwner ?? process.getuid?.() === 0;
  const extracted: string[] = [];
  const refused: Refusal[] = [];
  const writes: Promise<void>[] = [];
  // The write in progress per path: a member the archive holds twice (tar -r appends) waits for
  // the first one, so the two never interleave in one file.
  const lastWrite = new Map<string, Promise<void>>();
  // What onFile last asked to wait for: no more archive bytes reach node-tar's parser until it settles.
  let holding: Promise<void> | null = null;
  const open = new Map<ReadEntry, (error: Error) => void>();
  // Folders under cwd already created or checked by this extraction. The archive cannot turn one
  // into a symlink afterwards (it writes no links, and a file entry never opens a folder), so
  // each is lstat'ed once, not once per file beneath it (17k files: ~70k lstat calls saved).
  const realDirs = new Set<string>();
  // The big file the plain lane is writing, closed if the extraction fails in the middle of it.
  let bigFile: FileHandle | null = null;
  let failure: unknown = null;
  let current = '(archive header)';
  const stream: { source: Readable; stages: readonly Duplex[] } = options.runs
    ? { source: readRuns(options.file, options.runs, budget, () => current, options.onRead), stages: [] }
    : await openArchiveStream(options.file, budget, () => current, options.onRead);
  const fail = (error: unknown) => {
    failure ??= error;
    stream.source.destroy(error as Error);
  };

  /** The member to write for this entry, or null (metadata, refused, not selected); throws past a cap. */
  const admit = (path: string, type: string, size: number): string | null => {
    current = path;
    budget.admitEntry(name, path, size);
    if (META_TYPES.has(type)) return null;
    const reason = refusalReason({ path, type });
    if (reason !== null) {
      const refusal = { entry: path, reason };
      refused.push(refusal);
      options.onRefused?.(refusal);
      return null;
    }
    const member = memberPath(path);
    if ((options.select && !options.select(member)) || member === '') return null;
    extracted.push(member);
    return member;
  };
  const report = (member: string, written: Written) => options.onFile?.(member, written.file, written.content);
  const fileMeta = (entry: {
    mode?: number | undefined;
    uid?: number | undefined;
    gid?: number | undefined;
    mtime?: Date | undefined;
  }): FileMeta => ({
    mode: (entry.mode ?? 0o644) & 0o777,
    owner: sameOwner && entry.uid !== undefined && entry.gid !== undefined ? { uid: entry.uid, gid: entry.gid } : null,
    mtime: entry.mtime ?? null,
  });

  const plainLane: TarReaderHooks = {
    entry: async (entry): Promise<BodyTaker | null> => {
      const member = admit(entry.path, entry.type, entry.size);
      if (member === null) return null;
      const target = placeEntry(options.cwd, member, entry.type === 'Directory', realDirs);
      if (entry.type === 'Directory') {
        setFolderTime(target, entry.mtime);
        return null;
      }
      const meta = fileMeta(entry);
      const keep = options.keepContent?.(member) ?? false;
      if (entry.size <= SMALL_FILE) {
        const sameAs = options.sameAs?.(member) ?? null;
        return { whole: (chunks, bytes) => report(member, writeSmall(target, chunks, bytes, meta, keep, sameAs)) };
      }
      const handle = (bigFile = await openFile(target, WRITE_FLAGS, meta.mode));
      const sink = new FileSink(keep);
      return {
        data: async (chunk) => {
          sink.take(chunk, keep);
          await writeAll(handle, chunk);
        },
        end: async () => {
          try {
            await finishBig(handle, meta);
          } finally {
            bigFile = null;
            await handle.close();
          }
          return report(member, sink.written());
        },
      };
    },
    handOff: () => nodeTarParser(),
    beforeHandOffChunk: () => holding,
  };

  const nodeTarParser = () => {
    const parser = new Parser({ strict: true });
    parser.on('entry', (entry: ReadEntry) => {
      if (failure !== null) return entry.resume();
      let member: string | null;
      try {
        member = admit(entry.path, entry.type, entry.size ?? 0);
      } catch (error) {
        fail(error);
        return entry.resume();
      }
      if (member === null) return entry.resume();
      const aborted = new Promise<never>((_, reject) => open.set(entry, reject));
      aborted.catch(() => {});
      const keep = entry.type !== 'Directory' && (options.keepContent?.(member) ?? false);
      const write = (lastWrite.get(member) ?? Promise.resolve())
        .then(() =>
          writeEntry(options.cwd, member, entry, aborted, {
            meta: fileMeta(entry),
            realDirs,
            keep,
            sameAs: options.sameAs?.(member) ?? null,
          }),
        )
        .then((written) => {
          const held = written === null ? undefined : report(member, written);
          if (held) {
            holding = held;
            return held;
          }
        })
        .catch((error: unknown) => {
          failure ??= error;
          entry.resume();
        })
        .finally(() => {
          open.delete(entry);
          if (lastWrite.get(member) === write) lastWrite.delete(member);
        });
      lastWrite.set(member, write);
      writes.push(write);
    });
    return parser;
  };

  const sink = how.plainLane ? tarReader(plainLane) : gated(nodeTarParser(), () => holding);
  try {
    await pipeline([stream.source, ...stream.stages, sink], options.signal ? { signal: options.signal } : {});
  } catch (error) {
    failure ??= error;
    // A truncated archive never ends the entry being read: end its write so we can wait for it.
    for (const abort of open.values()) abort(new Error('the archive ended in the middle of this entry'));
  }
  await sink.settled();
  await Promise.allSettled(writes);
  if (bigFile !== null) await (bigFile as FileHandle).close().catch(() => {});
  if (failure !== null) {
    if (failure instanceof IntegrityError || (failure as Error).name === 'AbortError') throw failure;
    // A full disk or an I/O error while staging says nothing about the archive: the caller names it.
    if (diskFailureOf(failure)) throw failure;
    throw corrupt(options.file, failure);
  }
  return { extracted, refused };
}

/** node-tar's parser as a writable that holds each chunk back while `holding()` is pending. */
function gated(parser: Parser, holding: () => Promise<void> | null): TarReader {
  return tarReader({
    entry: () => {
      throw new Error('unreachable: every header goes to node-tar');
    },
    handOff: () => parser,
    beforeHandOffChunk: holding,
    handOffAtOnce: true,
  });
}

function corrupt(file: string, error: unknown): IntegrityError {
  const message = error instanceof Error ? error.message : String(error);
  return new IntegrityError('ARCHIVE_CORRUPT', `${file} cannot be read as a gzip tarball: ${message}`, {
    cause: error,
  });
}
