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
import { type FileHandle, open as openFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReadEntry } from 'tar';
import { IntegrityError } from '../errors.ts';
import type { ExtractedFile } from './extract-archive.ts';

// Writing one extracted member, for either lane of extract-archive.ts: a small file gathered
// whole and written with synchronous calls, a big one streamed, folders made real (never
// through a symlink), and the sha256 of the bytes as they go to the disk.

/** Files up to this size are gathered from the archive, then written with synchronous calls. */
export const SMALL_FILE = 1024 * 1024;
export const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

export interface FileMeta {
  mode: number;
  owner: { uid: number; gid: number } | null;
  mtime: Date | null;
}

export interface Written {
  file: ExtractedFile;
  content: Buffer | null;
}

/** The sha256 and size of a file's bytes as they go to the disk, and the bytes when kept. */
export class FileSink {
  private readonly hash = createHash('sha256');
  private readonly kept: Buffer[] = [];
  private bytes = 0;
  private readonly keep: boolean;
  constructor(keep: boolean) {
    this.keep = keep;
  }
  take(data: Buffer, retain: boolean): void {
    this.hash.update(data);
    this.bytes += data.length;
    if (retain) this.kept.push(data);
  }
  written(wrote = true): Written {
    return {
      file: { sha256: this.hash.digest('hex'), bytes: this.bytes, written: wrote },
      content: this.keep ? Buffer.concat(this.kept) : null,
    };
  }
}

/** The folders above a member (and a folder member itself) made real folders under cwd; its path. */
export function placeEntry(cwd: string, member: string, folder: boolean, realDirs: Set<string>): string {
  const parts = member.replace(/\/$/, '').split('/');
  ensureRealDirs(cwd, folder ? parts : parts.slice(0, -1), realDirs);
  return join(cwd, member);
}

export function setFolderTime(target: string, mtime: Date | undefined | null): void {
  if (!mtime) return;
  try {
    utimesSync(target, mtime, mtime);
  } catch {
    // a folder's time is cosmetic
  }
}

/**
 * A small file (most state files), gathered whole, opened, written, owned, moded, timed and
 * closed with synchronous calls: six thread-pool round trips per file cost far more than the
 * work (17k state files: ~12 s of a restore here), as GNU tar knows. Not written at all when
 * `sameAs` already holds exactly these bytes.
 */
export function writeSmall(
  target: string,
  chunks: readonly Buffer[],
  bytes: number,
  meta: FileMeta,
  keep: boolean,
  sameAs: string | null,
): Written {
  const sink = new FileSink(keep);
  for (const chunk of chunks) sink.take(chunk, true);
  if (sameAs !== null && holdsExactly(sameAs, chunks, bytes)) return sink.written(false);
  const fd = openSync(target, WRITE_FLAGS, meta.mode);
  try {
    for (const data of chunks) for (let at = 0; at < data.length; ) at += writeSync(fd, data, at, data.length - at);
    if (meta.owner) fchownSync(fd, meta.owner.uid, meta.owner.gid);
    fchmodSync(fd, meta.mode); // after chown, which may clear mode bits; never setuid/setgid/sticky
    if (meta.mtime) {
      try {
        futimesSync(fd, meta.mtime, meta.mtime);
      } catch {
        // as GNU tar: a time that cannot be set does not fail the restore
      }
    }
  } finally {
    closeSync(fd);
  }
  return sink.written();
}

/** A big file's owner, mode and time, once its bytes are written. */
export async function finishBig(handle: FileHandle, meta: FileMeta): Promise<void> {
  if (meta.owner) await handle.chown(meta.owner.uid, meta.owner.gid);
  await handle.chmod(meta.mode);
  if (meta.mtime) await handle.utimes(meta.mtime, meta.mtime).catch(() => {});
}

export async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; ) at += (await handle.write(data, at, data.length - at)).bytesWritten;
}

/**
 * node-tar's lane: writes one entry; for a file, returns its sha256 and size as written (and
 * its bytes when `keep`). A small file is gathered whole, then written as the plain lane
 * writes it; a big one streams through the thread pool, chunk by chunk.
 */
export async function writeEntry(
  cwd: string,
  member: string,
  entry: ReadEntry,
  aborted: Promise<never>,
  how: { meta: FileMeta; realDirs: Set<string>; keep: boolean; sameAs: string | null },
): Promise<Written | null> {
  const { meta, keep } = how;
  const target = placeEntry(cwd, member, entry.type === 'Directory', how.realDirs);
  if (entry.type === 'Directory') {
    entry.resume();
    setFolderTime(target, entry.mtime);
    return null;
  }
  if ((entry.size ?? 0) <= SMALL_FILE) {
    const chunks: Buffer[] = [];
    let bytes = 0;
    await Promise.race([
      (async () => {
        for await (const chunk of entry) {
          chunks.push(chunk as Buffer);
          bytes += (chunk as Buffer).length;
        }
      })(),
      aborted,
    ]);
    return writeSmall(target, chunks, bytes, meta, keep, how.sameAs);
  }
  const handle = await openFile(target, WRITE_FLAGS, meta.mode);
  const sink = new FileSink(keep);
  try {
    const copy = async () => {
      for await (const chunk of entry) {
        await writeAll(handle, chunk as Buffer);
        sink.take(chunk as Buffer, keep);
      }
    };
    await Promise.race([copy(), aborted]);
    await finishBig(handle, meta);
    return sink.written();
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
