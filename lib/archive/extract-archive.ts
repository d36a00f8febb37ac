import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  futimesSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  utimesSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { basename, isAbsolute, join, posix } from 'node:path';
import { type Duplex, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { diskFailureOf, IntegrityError } from '../errors.ts';
import { ExtractBudget } from './extract-limits.ts';
import { openArchiveStream } from './open-archive-stream.ts';
import { readRuns } from './read-runs.ts';
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
export function refusalReason(entry: Pick<ReadEntry, 'path' | 'type'>): string | null {
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
 */
export async function extractArchive(options: ExtractOptions): Promise<{ extracted: string[]; refused: Refusal[] }> {
  const budget = options.budget ?? new ExtractBudget();
  const name = basename(options.file);
  const sameOwner = options.sameOwner ?? process.getuid?.() === 0;
  const extracted: string[] = [];
  const refused: Refusal[] = [];
  const writes: Promise<void>[] = [];
  // The write in progress per path: a member the archive holds twice (tar -r appends) waits for
  // the first one, so the two never interleave in one file.
  const lastWrite = new Map<string, Promise<void>>();
  // What onFile last asked to wait for: no more archive bytes reach the parser until it settles.
  let holding: Promise<void> | null = null;
  const gate = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const wait = holding;
      if (wait === null) return callback(null, chunk);
      const go = () => {
        if (holding === wait) holding = null;
        callback(null, chunk);
      };
      wait.then(go, go);
    },
  });
  const open = new Map<ReadEntry, (error: Error) => void>();
  // Folders under cwd already created or checked by this extraction. The archive cannot turn one
  // into a symlink afterwards (it writes no links, and a file entry never opens a folder), so
  // each is lstat'ed once, not once per file beneath it (17k files: ~70k lstat calls saved).
  const realDirs = new Set<string>();
  let failure: unknown = null;
  let current = '(archive header)';
  const parser = new Parser({ strict: true });
  const stream: { source: Readable; stages: readonly Duplex[] } = options.runs
    ? { source: readRuns(options.file, options.runs, budget, () => current, options.onRead), stages: [] }
    : await openArchiveStream(options.file, budget, () => current, options.onRead);
  const fail = (error: unknown) => {
    failure ??= error;
    stream.source.destroy(error as Error);
  };
  parser.on('entry', (entry: ReadEntry) => {
    current = entry.path;
    const member = memberPath(entry.path);
    if (failure !== null) return entry.resume();
    try {
      budget.admitEntry(name, entry.path, entry.size ?? 0);
    } catch (error) {
      fail(error);
      return entry.resume();
    }
    if (META_TYPES.has(entry.type)) return entry.resume();
    const reason = refusalReason(entry);
    if (reason !== null) {
      const refusal = { entry: entry.path, reason };
      refused.push(refusal);
      options.onRefused?.(refusal);
      return entry.resume();
    }
    if ((options.select && !options.select(member)) || member === '') return entry.resume();
    extracted.push(member);
    const aborted = new Promise<never>((_, reject) => open.set(entry, reject));
    aborted.catch(() => {});
    const keep = entry.type !== 'Directory' && (options.keepContent?.(member) ?? false);
    const write = (lastWrite.get(member) ?? Promise.resolve())
      .then(() =>
        writeEntry(options.cwd, member, entry, aborted, {
          sameOwner,
          realDirs,
          keep,
          sameAs: options.sameAs?.(member) ?? null,
        }),
      )
      .then((written) => {
        const held = written === null ? undefined : options.onFile?.(member, written.file, written.content);
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
  try {
    await pipeline([stream.source, ...stream.stages, gate, parser], options.signal ? { signal: options.signal } : {});
  } catch (error) {
    failure ??= error;
    // A truncated archive never ends the entry being read: end its write so we can wait for it.
    for (const abort of open.values()) abort(new Error('the archive ended in the middle of this entry'));
  }
  await Promise.allSettled(writes);
  if (failure !== null) {
    if (failure instanceof IntegrityError || (failure as Error).name === 'AbortError') throw failure;
    // A full disk or an I/O error while staging says nothing about the archive: the caller names it.
    if (diskFailureOf(failure)) throw failure;
    throw corrupt(options.file, failure);
  }
  return { extracted, refused };
}

/** Files up to this size are gathered from the archive, then written with synchronous calls. */
const SMALL_FILE = 1024 * 1024;
const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/**
 * Writes one entry; for a file, returns its sha256 and size as written (and its bytes when
 * `keep`). A small file (most state files) is gathered whole, then opened, written, owned,
 * moded, timed and closed with synchronous calls: six thread-pool round trips per file cost
 * far more than the work (17k state files: ~12 s of a restore here), as GNU tar knows. Big
 * files stream through the thread pool, chunk by chunk.
 */
async function writeEntry(
  cwd: string,
  member: string,
  entry: ReadEntry,
  aborted: Promise<never>,
  how: { sameOwner: boolean; realDirs: Set<string>; keep: boolean; sameAs: string | null },
): Promise<{ file: ExtractedFile; content: Buffer | null } | null> {
  const { sameOwner, realDirs, keep } = how;
  const target = join(cwd, member);
  const parts = member.replace(/\/$/, '').split('/');
  ensureRealDirs(cwd, entry.type === 'Directory' ? parts : parts.slice(0, -1), realDirs);
  const mode = (entry.mode ?? 0o644) & 0o777;
  const owner =
    sameOwner && entry.uid !== undefined && entry.gid !== undefined ? { uid: entry.uid, gid: entry.gid } : null;
  if (entry.type === 'Directory') {
    entry.resume();
    if (entry.mtime) {
      try {
        utimesSync(target, entry.mtime, entry.mtime);
      } catch {
        // a folder's time is cosmetic
      }
    }
    return null;
  }
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let bytes = 0;
  const take = (data: Buffer, retain: boolean) => {
    hash.update(data);
    bytes += data.length;
    if (retain) kept.push(data);
  };
  const written = (wrote = true) => ({
    file: { sha256: hash.digest('hex'), bytes, written: wrote },
    content: keep ? Buffer.concat(kept) : null,
  });

  if ((entry.size ?? 0) <= SMALL_FILE) {
    await Promise.race([
      (async () => {
        for await (const chunk of entry) take(chunk as Buffer, true);
      })(),
      aborted,
    ]);
    if (how.sameAs !== null && holdsExactly(how.sameAs, kept, bytes)) return written(false);
    const fd = openSync(target, WRITE_FLAGS, mode);
    try {
      for (const data of kept) for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
      if (owner) fchownSync(fd, owner.uid, owner.gid);
      fchmodSync(fd, mode); // after chown, which may clear mode bits; never setuid/setgid/sticky
      if (entry.mtime) {
        try {
          futimesSync(fd, entry.mtime, entry.mtime);
        } catch {
          // as GNU tar: a time that cannot be set does not fail the restore
        }
      }
    } finally {
      closeSync(fd);
    }
    return written();
  }

  const handle = await openFile(target, WRITE_FLAGS, mode);
  try {
    const copy = async () => {
      for await (const chunk of entry) {
        await handle.write(chunk as Buffer);
        take(chunk as Buffer, keep);
      }
    };
    await Promise.race([copy(), aborted]);
    if (owner) await handle.chown(owner.uid, owner.gid);
    await handle.chmod(mode);
    if (entry.mtime) await handle.utimes(entry.mtime, entry.mtime).catch(() => {});
    return written();
  } finally {
    await handle.close();
  }
}

/** Whether `path` is a regular file (not followed if a link) whose bytes are exactly `data`'s `bytes`. */
function holdsExactly(path: string, data: readonly Buffer[], bytes: number): boolean {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch {
    return false; // absent (the usual case for a recovery into an empty root), a link, unreadable: written
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile() || info.size !== bytes) return false;
    const live = Buffer.allocUnsafe(bytes + 1); // one more: a file that grew since fstat differs
    let read = 0;
    for (let n = -1; n !== 0 && read < live.length; read += n) n = readSync(fd, live, read, live.length - read, null);
    return read === bytes && live.subarray(0, bytes).equals(data.length === 1 ? data[0]! : Buffer.concat(data, bytes));
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Create each folder under cwd, refusing any existing component that is not a real folder (a planted symlink). */
function ensureRealDirs(cwd: string, parts: string[], realDirs: Set<string>): void {
  let path = cwd;
  for (const part of parts) {
    path = join(path, part);
    if (realDirs.has(path)) continue;
    let info: Stats | null = null;
    try {
      info = lstatSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (info === null) {
      try {
        mkdirSync(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    } else if (!info.isDirectory())
      throw new IntegrityError('ARCHIVE_UNSAFE', `refusing to extract through ${path}: it is not a folder (symlink?)`);
    realDirs.add(path);
  }
}

function corrupt(file: string, error: unknown): IntegrityError {
  const message = error instanceof Error ? error.message : String(error);
  return new IntegrityError('ARCHIVE_CORRUPT', `${file} cannot be read as a gzip tarball: ${message}`, {
    cause: error,
  });
}
