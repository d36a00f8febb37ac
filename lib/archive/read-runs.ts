import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { constants, crc32, createInflateRaw, inflateRawSync } from 'node:zlib';
import { diskFailureOf, IntegrityError } from '../errors.ts';
import type { ExtractBudget } from './extract-limits.ts';
import { indexMatches, type SegmentIndex, type SegmentRecord } from './segments.ts';

// Reading part of an archive written in runs (segments.ts): a restore of one module's state
// needs 2,130 of the states archive's 17k members, which lie together in a few of its ~50
// runs, since the packer writes members in path order (`sorted` in the index). Each run's
// deflate stream stands alone, so those runs are inflated straight from their offsets, each
// checked against its tar size and CRC-32 from the index, and the rest is never inflated nor
// parsed. Whatever is unusual (no index, not in path order, an index that does not match the
// file, a run whose first member cannot be read) reads the whole archive instead.

/**
 * The packer's order: a depth-first walk with each folder's entries sorted (JavaScript's
 * `sort`), which is the names' order when "/" sorts before every other character.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return (x === SLASH ? -1 : x) - (y === SLASH ? -1 : y);
  }
  return a.length - b.length;
}

const SLASH = 0x2f;

/** Whether names are strictly in the packer's order (what the index's `sorted` records). */
export function inPathOrder(names: Iterable<string>): boolean {
  let last: string | null = null;
  for (const name of names) {
    if (last !== null && comparePaths(last, name) >= 0) return false;
    last = name;
  }
  return true;
}

const BLOCK = 512;

/**
 * The runs of `file` (its sha256 already verified) that can hold members under `folders`
 * (root-relative, each ending in "/"), in archive order; null when the whole archive must be
 * read. A folder's members lie together: in the runs whose first member is under it, and
 * in the last run before those (it may start before the folder and run into it).
 */
export async function runsHolding(
  file: string,
  index: SegmentIndex,
  folders: readonly string[],
): Promise<SegmentRecord[] | null> {
  if (index.sorted !== true || folders.length === 0 || folders.some((f) => !f.endsWith('/') || /[*?[\]{}]/.test(f)))
    return null;
  const handle = await open(file, 'r');
  try {
    if ((await trailerProblem(handle, index)) !== null) return null;
    const runs = index.runs.filter((run) => run.members > 0);
    // Only the end of the archive (its zero blocks) may hold no member.
    if (index.runs.slice(0, runs.length).some((run) => run.members === 0)) return null;
    const firsts: string[] = [];
    for (const run of runs) {
      const name = await firstMember(handle, run);
      if (name === null) return null;
      firsts.push(name);
    }
    if (!inPathOrder(firsts)) return null;
    const chosen = new Set<number>();
    for (const folder of folders) {
      const base = folder.slice(0, -1);
      const inside = (name: string) => name === base || name.startsWith(folder);
      let before = -1;
      firsts.forEach((name, i) => {
        if (inside(name)) chosen.add(i);
        else if (comparePaths(name, base) < 0) before = i;
      });
      if (before >= 0) chosen.add(before);
    }
    return [...chosen].sort((a, b) => a - b).map((i) => runs[i]!);
  } finally {
    await handle.close();
  }
}

/** Why the manifest's runs do not describe that gzip file (their offsets, sizes and CRCs against its trailer), or null. */
export async function indexProblem(file: string, index: SegmentIndex): Promise<string | null> {
  const handle = await open(file, 'r');
  try {
    return await trailerProblem(handle, index);
  } finally {
    await handle.close();
  }
}

async function trailerProblem(handle: FileHandle, index: SegmentIndex): Promise<string | null> {
  const { size } = await handle.stat();
  const trailer = Buffer.alloc(8);
  if (size < 18 || (await handle.read(trailer, 0, 8, size - 8)).bytesRead !== 8) return 'is too short for a gzip file';
  return indexMatches(index, size, trailer.readUInt32LE(0), trailer.readUInt32LE(4))
    ? null
    : 'does not match the index of runs its manifest gives';
}

/** The name of a run's first member (a ustar header, or a pax or GNU long name before it), or null. */
async function firstMember(handle: FileHandle, run: SegmentRecord): Promise<string | null> {
  // A few hundred compressed bytes usually hold the header; more only when they do not.
  for (let peek = 512; ; peek *= 8) {
    const compressed = Buffer.alloc(Math.min(run.gz_bytes, peek));
    if ((await handle.read(compressed, 0, compressed.length, run.gz_offset)).bytesRead !== compressed.length)
      return null;
    let tar: Buffer;
    try {
      tar = inflateRawSync(compressed, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 8 * 1024 * 1024 });
    } catch {
      return null; // not deflate, or a bomb: read the whole archive, under its caps
    }
    const name = memberName(tar);
    if (name !== undefined) return name;
    if (compressed.length === run.gz_bytes || peek >= MAX_PEEK_BYTES) return null;
  }
}

/** Compressed bytes inflated at most to find a run's first member name. */
const MAX_PEEK_BYTES = 256 * 1024;

/**
 * The name the tar stream starting at `tar` gives its first member (without a trailing "/");
 * null when it is not a tar header; undefined when `tar` ends before the name does.
 */
export function memberName(tar: Buffer): string | null | undefined {
  let longName: string | null = null;
  for (let at = 0; ; ) {
    if (at + BLOCK > tar.length) return undefined;
    const header = tar.subarray(at, at + BLOCK);
    if (!checksumOk(header)) return null;
    const type = String.fromCharCode(header[156]!);
    const size = Number.parseInt(field(header, 124, 12) || '0', 8);
    if (!Number.isSafeInteger(size) || size < 0) return null;
    if (type === 'x' || type === 'L') {
      const data = tar.subarray(at + BLOCK, at + BLOCK + size);
      if (data.length !== size) return undefined; // the long name lies past what was inflated
      longName = type === 'L' ? data.toString('utf8').replace(/\0+$/, '') : paxPath(data);
      at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
      continue;
    }
    const name = field(header, 0, 100);
    const prefix = field(header, 345, 155);
    const full = longName ?? (prefix ? `${prefix}/${name}` : name);
    const bare = full.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    return bare === '' ? null : bare;
  }
}

function field(header: Buffer, at: number, length: number): string {
  const raw = header.subarray(at, at + length);
  const end = raw.indexOf(0);
  return raw
    .subarray(0, end < 0 ? length : end)
    .toString('utf8')
    .trim();
}

function checksumOk(header: Buffer): boolean {
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i += 1) if (i < 148 || i >= 156) sum += header[i]!;
  return sum === Number.parseInt(field(header, 148, 8), 8);
}

/** The `path` record of a pax header ("<len> path=<name>\n"), or null. */
function paxPath(data: Buffer): string | null {
  for (const line of data.toString('utf8').split('\n')) {
    const match = /^\d+ path=(.*)$/s.exec(line);
    if (match) return match[1]!;
  }
  return null;
}

/**
 * The tar bytes of `runs`, inflated one run at a time from its offset in `file` (streamed: a
 * run holding a big member is never held whole), each checked against the index once read
 * (its tar size and CRC-32) and counted against the budget's caps, then the end-of-archive
 * blocks. A run that does not match is ARCHIVE_CORRUPT.
 */
export function readRuns(
  file: string,
  runs: readonly SegmentRecord[],
  budget: ExtractBudget,
  currentEntry: () => string,
  onRead?: (compressedBytes: number) => void,
): Readable {
  const name = basename(file);
  const corrupt = (run: SegmentRecord, cause?: unknown) =>
    new IntegrityError(
      'ARCHIVE_CORRUPT',
      `${file} cannot be read as a gzip tarball: its run at byte ${run.gz_offset} does not match the index of runs its manifest gives`,
      cause === undefined ? {} : { cause },
    );
  async function* bytes(): AsyncGenerator<Buffer> {
    let before = 0; // compressed bytes of the runs already read
    let decompressed = 0;
    for (const run of runs) {
      if (run.gz_bytes === 0) throw corrupt(run);
      const source = createReadStream(file, { start: run.gz_offset, end: run.gz_offset + run.gz_bytes - 1 });
      let compressed = 0;
      source.on('data', (chunk) => {
        compressed += chunk.length;
        onRead?.(before + compressed);
      });
      const inflate = createInflateRaw({ finishFlush: constants.Z_SYNC_FLUSH, chunkSize: 256 * 1024 });
      source.on('error', (error) => inflate.destroy(error)); // pipe() alone would leave the inflate waiting forever
      let tarBytes = 0;
      let crc = 0;
      try {
        for await (const chunk of source.pipe(inflate) as AsyncIterable<Buffer>) {
          tarBytes += chunk.length;
          if (tarBytes > run.tar_bytes) throw corrupt(run);
          crc = crc32(chunk, crc);
          decompressed += chunk.length;
          budget.admitBytes(name, currentEntry(), chunk.length, before + compressed, decompressed);
          yield chunk;
        }
      } catch (error) {
        // An I/O error reading the file says nothing about the archive: the caller names it.
        throw error instanceof IntegrityError || diskFailureOf(error) ? error : corrupt(run, error);
      } finally {
        source.destroy();
        inflate.destroy();
      }
      if (compressed !== run.gz_bytes || tarBytes !== run.tar_bytes || crc >>> 0 !== run.crc32) throw corrupt(run);
      before += run.gz_bytes;
    }
    yield Buffer.alloc(2 * BLOCK);
  }
  return Readable.from(bytes(), { objectMode: false });
}
