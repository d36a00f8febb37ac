import {
  closeSync,
  constants,
  type Dirent,
  fstatSync,
  lstatSync,
  openSync,
  read,
  readdirSync,
  readlinkSync,
  readSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Header, Pax, type HeaderData } from 'tar';
import { readAgain } from '../state/index.ts';
import { sameAsPlanned, type PlannedMember, type PlannedSegment } from './segments.ts';
import { ustarHeader } from './ustar-header.ts';

// A tar stream of files that services rewrite while we read them (the states). Each file is
// opened once and read from that one descriptor up to the size fstat gave for it, so a new
// version renamed over it mid-backup yields the old or the new file, never a mix; and the
// very bytes that go into the archive are handed to `onFile`, so what is validated is what is
// archived. This replaces copying the files to a staging folder first (17k file creations
// took 15-18 s here, reading them 0.6 s). Headers are node-tar's; GNU tar reads the result.
// It is also the default packer of every other archive (tar-producer.ts): small files are
// read whole, synchronously (cheaper than a thread-pool round trip each), bigger ones in
// 256 KiB chunks on libuv's pool, so a cold disk does not stall the main thread.

export interface LiveFileOptions {
  cwd: string;
  /** Files or folders (recursed, names sorted) relative to cwd. */
  paths: readonly string[];
  /** Called with each regular file's content (null when it is larger than `maxBuffered`); packing waits for a returned promise. */
  onFile?: (member: string, content: Buffer | null) => void | Promise<void>;
  /** Files up to this size are read whole (and given to onFile); larger ones are streamed. Default 64 MiB. */
  maxBuffered?: number;
  /** Leave out writers' temporary files found in folders (default true; see isInFlightTemp). */
  skipInFlightTemp?: boolean;
  /**
   * Pack these runs of the plan's members instead of walking `paths` (segments.ts): a run to
   * reuse is not read at all. `onSegment(i, offset)` is called before run i's first byte
   * (i = plan.length: the end of the archive), with the stream offset where it starts;
   * `onDrift(i)` when a member of run i was not as the plan saw it (changed, gone, or now of
   * another kind): what was packed is right, but the run must not be reused later.
   */
  segments?: {
    plan: readonly PlannedSegment[];
    onSegment: (index: number, offset: number) => void;
    onDrift: (index: number) => void;
  };
}

const BLOCK = 512;
const CHUNK = 256 * 1024;
const BATCH = 256 * 1024;

/**
 * A writer's temporary file (`x.toml.tmp-123`, `.x.toml.tmp-…`, `*.tmp`): an atomic write in
 * flight, renamed over the real file a moment later. Archiving it would restore a stray copy
 * (the runbook's rsync excluded `*.tmp` for the same reason).
 */
export function isInFlightTemp(name: string): boolean {
  return /\.tmp(-[^/]*)?$/.test(name);
}

export function packLiveFiles(options: LiveFileOptions): Readable {
  return Readable.from(entries(options), { objectMode: false, highWaterMark: BATCH });
}

async function* entries(options: LiveFileOptions): AsyncGenerator<Buffer> {
  const maxBuffered = options.maxBuffered ?? 64 * 1024 * 1024;
  const skipTemp = options.skipInFlightTemp ?? true;
  // Small files are gathered into batches: one push per file would cost more than reading it.
  let batch: Buffer[] = [];
  let batched = 0;
  let emitted = 0; // bytes yielded so far (where the next run starts)
  const flush = function* () {
    if (batched > 0) {
      emitted += batched;
      yield Buffer.concat(batch, batched);
    }
    batch = [];
    batched = 0;
  };
  // In segment mode: the planned member being packed, and its run (checked against what is opened).
  let expected: PlannedMember | null = null;
  let run = -1;
  const drifted = (info: Stats) => {
    if (expected === null) return;
    if (!sameAsPlanned(expected, info)) options.segments!.onDrift(run);
    expected = null;
  };
  const add = function* (buffer: Buffer) {
    batch.push(buffer);
    batched += buffer.length;
    if (batched >= BATCH) yield* flush();
  };

  const visit = async function* (member: string, listed = false): AsyncGenerator<Buffer> {
    const full = join(options.cwd, member);
    let info: Stats;
    try {
      info = lstatSync(full);
    } catch (error) {
      // Found by readdir, gone by lstat: a service renamed or deleted it meanwhile; it is
      // simply not part of this backup. A path the caller named must exist, though.
      if (listed && (error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    drifted(info);
    if (info.isDirectory()) {
      const dir = member.endsWith('/') ? member : `${member}/`;
      yield* add(header(dir, info, 'Directory', 0));
      if (options.segments) return; // its members are in the plan
      for (const entry of readdirSync(full, { withFileTypes: true }).sort(byName)) {
        if (skipTemp && isInFlightTemp(entry.name)) continue;
        // A regular file as readdir saw it is opened straight away (no lstat first: one
        // syscall fewer for each of thousands of state files); file() checks what it opened.
        if (entry.isFile()) yield* file(`${dir}${entry.name}`, join(full, entry.name), true);
        else yield* visit(`${dir}${entry.name}`, true);
      }
    } else if (info.isSymbolicLink()) {
      yield* add(header(member.replace(/\/+$/, ''), info, 'SymbolicLink', 0, readlinkSync(full)));
    } else if (info.isFile()) {
      yield* file(member.replace(/\/+$/, ''), full, listed);
    } else {
      throw Object.assign(
        new Error(`${full} is not a regular file, folder or symlink (a FIFO, socket or device cannot be archived)`),
        { code: 'EUNSUPPORTED', path: full },
      );
    }
  };

  const file = async function* (member: string, full: string, listed: boolean): AsyncGenerator<Buffer> {
    let fd: number;
    try {
      // Never follow a symlink nor wait on a FIFO put there since it was looked at: what was
      // opened is checked below, and anything but a regular file is looked at again.
      fd = openSync(full, OPEN_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (listed && code === 'ENOENT') {
        if (expected !== null) options.segments!.onDrift(run);
        return; // gone since lstat or readdir
      }
      if (code === 'ELOOP') return yield* visit(member, listed); // a symlink now: archived as one
      throw error;
    }
    let info: Stats;
    try {
      info = fstatSync(fd);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
    if (!info.isFile()) {
      closeSync(fd);
      return yield* visit(member, listed); // replaced since readdir: look at it as it is now
    }
    try {
      if (info.size <= maxBuffered) {
        let content = readWhole(fd, info);
        // A writer that rewrites in place (truncate, then write: Arkalia's ZeroIA) may have been
        // caught in the middle: read again until the file holds still (state/settle-read.ts).
        for (
          let attempt = 1;
          attempt < SETTLE_ATTEMPTS && (await readAgain(full, info, content.length));
          attempt += 1
        ) {
          let again: number;
          try {
            again = openSync(full, 'r');
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'ENOENT') break; // renamed away: keep what was read
            throw error;
          }
          const next = fstatSync(again);
          if (next.size > maxBuffered) {
            closeSync(again);
            break; // grew past the buffer: keep the consistent read made before, with its own stat
          }
          closeSync(fd);
          fd = again;
          info = next;
          content = readWhole(fd, info);
        }
        drifted(info);
        const size = content.length;
        const wait = options.onFile?.(member, content);
        if (wait) await wait;
        yield* add(header(member, info, 'File', size));
        yield* add(content);
        yield* add(padding(size));
        return;
      }
      drifted(info);
      const size = info.size;
      const wait = options.onFile?.(member, null);
      if (wait) await wait;
      yield* add(header(member, info, 'File', size));
      yield* flush();
      for (let done = 0; done < size; done += CHUNK) {
        const chunk = Buffer.allocUnsafe(Math.min(CHUNK, size - done));
        await readFullyAsync(fd, chunk, done, chunk.length, full);
        emitted += chunk.length;
        yield chunk;
      }
      yield* add(padding(size));
    } finally {
      closeSync(fd);
    }
  };

  if (options.segments) {
    const { plan, onSegment } = options.segments;
    for (const [index, segment] of plan.entries()) {
      yield* flush();
      onSegment(index, emitted);
      if (segment.reuse) continue; // its bytes come from the previous archive
      run = index;
      for (const member of segment.members) {
        expected = member;
        const listed = member.given === undefined;
        if (member.kind === 'file') yield* file(member.name, join(options.cwd, member.given ?? member.name), listed);
        else yield* visit(member.given ?? member.name, listed);
        expected = null;
      }
    }
    yield* flush();
    onSegment(plan.length, emitted);
  } else for (const path of options.paths) yield* visit(path);
  yield* add(Buffer.alloc(2 * BLOCK)); // end of archive
  yield* flush();
}

/** How many times a small file is read before its last read is kept (each one whole, from one descriptor). */
const SETTLE_ATTEMPTS = 5;

/**
 * A small file's bytes, up to the size fstat gave. Fewer when it ends sooner: a writer
 * truncated it since (an in-place rewrite caught between fstat and read). Its size then
 * differs from `info`'s, so readAgain has the caller read it again; nothing is emitted before.
 */
function readWhole(fd: number, info: Stats): Buffer {
  const content = Buffer.allocUnsafe(info.size);
  let read = 0;
  while (read < info.size) {
    const n = readSync(fd, content, read, info.size - read, read);
    if (n === 0) return content.subarray(0, read);
    read += n;
  }
  return content;
}

/** Reads exactly `length` bytes on libuv's pool (a big file's megabytes do not hold up the main thread, or wait on a cold disk there); a file that ends sooner fails by name. */
async function readFullyAsync(fd: number, into: Buffer, position: number, length: number, path: string): Promise<void> {
  let got = 0;
  while (got < length) {
    const n = await new Promise<number>((resolve, reject) =>
      read(fd, into, got, length - got, position + got, (error, bytes) => (error ? reject(error) : resolve(bytes))),
    );
    if (n === 0) throw shrank(path, position + got, position + length);
    got += n;
  }
}

function shrank(path: string, at: number, expected: number): Error {
  return Object.assign(new Error(`${path} shrank while it was read (${at} of ${expected} bytes): archive it again`), {
    code: 'ESHRANK',
    path,
  });
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

function byName(a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Zeros, never written to: padding is a view of it (chunks are copied into batches). */
const ZEROS = Buffer.alloc(BLOCK);

function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return ZEROS.subarray(0, rest === 0 ? 0 : BLOCK - rest);
}

function header(
  path: string,
  info: Stats,
  type: 'File' | 'Directory' | 'SymbolicLink',
  size: number,
  linkpath?: string,
): Buffer {
  if (linkpath === undefined && type !== 'SymbolicLink') {
    const fast = ustarHeader(path, info.mode & 0o7777, info.uid, info.gid, size, info.mtime, type);
    if (fast) return fast;
  }
  const data: HeaderData = {
    path,
    mode: info.mode & 0o7777,
    uid: info.uid,
    gid: info.gid,
    size,
    mtime: info.mtime,
    type,
    ...(linkpath === undefined ? {} : { linkpath }),
  };
  const h = new Header(data);
  const block = Buffer.alloc(BLOCK);
  // A long or non-ASCII name (or a huge number) does not fit ustar: a pax header carries it.
  // node-tar splits a long folder name into ustar's prefix and name without its trailing "/":
  // a pax path keeps it (GNU tar then lists "dir/" like every other folder).
  const longFolder = type === 'Directory' && Buffer.byteLength(path) > 100;
  if (h.encode(block) || longFolder)
    return Buffer.concat([
      new Pax({
        path,
        size,
        mtime: info.mtime,
        uid: info.uid,
        gid: info.gid,
        ...(linkpath === undefined ? {} : { linkpath }),
      }).encode(),
      block,
    ]);
  return block;
}
