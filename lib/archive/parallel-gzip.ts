import type { FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { constants, crc32, deflateRaw, deflateRawSync } from 'node:zlib';
import { crc32Combine, GZIP_HEADER_BYTES, type SegmentRecord } from './segments.ts';

// A pigz-style gzip writer: the input is cut into blocks that are deflated concurrently on
// libuv's thread pool (both cores), each primed with the 32 KiB before it (so compression is
// within a fraction of a percent of plain gzip) and ended with a sync flush, then written in
// order as ONE gzip member that `gzip -d`, GNU `tar -xzf` and zlib read like any other.
// Blocks that would not shrink (model weights, already-compressed files) are not deflated at
// all: they are written as stored deflate blocks, found by deflating a small sample first.
// Memory is bounded by blockSize x (in-flight blocks + 1), whatever the input size. Incoming
// chunks are kept by reference, never changed (a stream's chunk belongs to its reader).

export interface ParallelGzipOptions {
  /** 0-9 as gzip's -0..-9 (0: store everything). */
  level: number;
  /** Bytes per block (default 1 MiB). */
  blockSize?: number;
  /** Blocks being compressed at once (default: one per core). */
  concurrency?: number;
  /** Store blocks whose sample does not compress below this ratio (default 0.97; 0 disables the probe). */
  storeAboveRatio?: number;
}

/**
 * What happens at a point of the input (segments.ts): a new run starts there, deflated
 * without the dictionary of what came before; or a run of the previous archive is copied
 * there (its compressed bytes, read from `source`), standing for `run.tar_bytes` of input
 * that never comes through this stream.
 */
export type GzipEvent = { kind: 'run' } | { kind: 'copy'; run: SegmentRecord; source: FileHandle };

/** A run as written: where its compressed bytes are in the output, its tar bytes and their CRC-32. */
export interface WrittenRun {
  copied: boolean;
  tarBytes: number;
  crc: number;
  gzOffset: number;
  gzBytes: number;
}

const COPY_PIECE = 1024 * 1024;

const WINDOW = 32 * 1024;
const STORED_MAX = 65_535;
const OUTPUT_CHUNK = 256 * 1024;
const SAMPLE = 3 * 4 * 1024;
// 10-byte gzip header: magic, deflate, no flags, mtime 0, no extra flags, OS = Unix.
const HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);
// An empty final block (fixed Huffman, end-of-block code): what `deflate(Z_FINISH)` of nothing writes.
const FINAL_BLOCK = Buffer.from([0x03, 0x00]);

export class ParallelGzip extends Transform {
  readonly level: number;
  readonly #blockSize: number;
  readonly #concurrency: number;
  readonly #storeAbove: number;
  // The block being gathered, as references to the incoming chunks (not copied: a stored
  // block is written straight from them, and only blocks worth deflating are joined).
  #parts: Buffer[] = [];
  #fill = 0;
  /** The last 32 KiB before the current block: the next deflate's dictionary. */
  #previous: Buffer | null = null;
  /** Buffers a joined block was deflated from, free again once its deflate returned. */
  readonly #spare: Buffer[] = [];
  #crc = 0;
  #size = 0;
  #queue: { run: WrittenRun; parts: Promise<Buffer[]> }[] = [];
  #headerWritten = false;
  /** Runs so far (the current one last), and the input offsets where events wait. */
  readonly runs: WrittenRun[] = [];
  #events: { offset: number; event: GzipEvent }[] = [];
  readonly #closed = new Set<WrittenRun>();
  #received = 0;
  #out = GZIP_HEADER_BYTES;

  /** Input bytes, copied runs included: the tar stream's size. */
  get inputBytes(): number {
    return this.#size;
  }
  /** Blocks written stored because they did not compress (for tests and the bench). */
  storedBlocks = 0;
  deflatedBlocks = 0;

  constructor(options: ParallelGzipOptions) {
    super({ readableHighWaterMark: 256 * 1024, writableHighWaterMark: 256 * 1024 });
    this.level = options.level;
    this.#blockSize = options.blockSize ?? 1024 * 1024;
    this.#concurrency = Math.max(1, options.concurrency ?? availableParallelism());
    this.#storeAbove = options.storeAboveRatio ?? 0.97;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#take(chunk).then(() => callback(), callback);
  }

  /** At input offset `offset` (bytes of this stream, counted before any copy), do `event`. Offsets must not go back. */
  at(offset: number, event: GzipEvent): void {
    this.#events.push({ offset, event });
  }

  override _flush(callback: TransformCallback): void {
    (async () => {
      await this.#runEvents();
      if (this.#events.length > 0) throw new Error('a gzip event lies beyond the end of the input');
      if (this.#fill > 0 || this.runs.length === 0) this.#submit();
      this.#closeRun();
      while (this.#queue.length > 0) await this.#writeOldest();
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(this.#crc >>> 0, 0);
      trailer.writeUInt32LE(this.#size % 0x1_0000_0000, 4);
      this.push(FINAL_BLOCK);
      this.push(trailer);
    })().then(() => callback(), callback);
  }

  async #take(chunk: Buffer): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      await this.#runEvents();
      const next = this.#events[0]?.offset;
      const n = Math.min(
        this.#blockSize - this.#fill,
        chunk.length - at,
        next === undefined ? Number.POSITIVE_INFINITY : next - this.#received,
      );
      this.#parts.push(n === chunk.length ? chunk : chunk.subarray(at, at + n));
      this.#fill += n;
      this.#received += n;
      at += n;
      if (this.#fill === this.#blockSize) {
        this.#submit();
        while (this.#queue.length >= this.#concurrency) await this.#writeOldest();
      }
    }
  }

  /** The events due at the current input offset, in order. */
  async #runEvents(): Promise<void> {
    while (this.#events.length > 0 && this.#events[0]!.offset <= this.#received) {
      const { offset, event } = this.#events.shift()!;
      if (offset < this.#received) throw new Error(`a gzip event at ${offset} came after input ${this.#received}`);
      if (this.#fill > 0) this.#submit();
      this.#closeRun();
      this.#previous = null; // a run stands alone: no dictionary from before it
      const run: WrittenRun = { copied: event.kind === 'copy', tarBytes: 0, crc: 0, gzOffset: -1, gzBytes: 0 };
      this.runs.push(run);
      this.#queue.push({ run, parts: Promise.resolve([]) }); // marks where the run starts in the output
      if (event.kind === 'copy') {
        run.tarBytes = event.run.tar_bytes;
        run.crc = event.run.crc32;
        this.#size += run.tarBytes;
        for (let done = 0; done < event.run.gz_bytes; done += COPY_PIECE) {
          const length = Math.min(COPY_PIECE, event.run.gz_bytes - done);
          const parts = readPiece(event.source, event.run.gz_offset + done, length);
          parts.catch(() => {}); // awaited in order by #writeOldest; not unhandled if the stream fails first
          this.#queue.push({ run, parts });
          while (this.#queue.length >= this.#concurrency + 1) await this.#writeOldest();
        }
      }
    }
  }

  /** The current run is complete: its CRC goes into the archive's. */
  #closeRun(): void {
    const run = this.runs.at(-1);
    if (run === undefined || this.#closed.has(run)) return;
    this.#closed.add(run);
    this.#crc = crc32Combine(this.#crc, run.crc, run.tarBytes);
  }

  /** The run input goes into: the open one, or a new one (without events, the whole input is one run). */
  #currentRun(): WrittenRun {
    let run = this.runs.at(-1);
    if (run?.copied) throw new Error('gzip input arrived after a copied run, without a new run');
    if (run === undefined || this.#closed.has(run)) {
      run = { copied: false, tarBytes: 0, crc: 0, gzOffset: -1, gzBytes: 0 };
      this.runs.push(run);
      this.#queue.push({ run, parts: Promise.resolve([]) });
    }
    return run;
  }

  #submit(): void {
    const parts = this.#parts;
    const length = this.#fill;
    this.#parts = [];
    this.#fill = 0;
    const run = this.#currentRun();
    for (const part of parts) run.crc = crc32(part, run.crc);
    run.tarBytes += length;
    this.#size += length;
    const dictionary = this.#previous;
    // Copied (32 KiB) rather than kept as a view, which would hold its whole chunk in memory for the next block.
    this.#previous =
      length >= WINDOW
        ? tail(parts, WINDOW)
        : Buffer.concat([dictionary ?? Buffer.alloc(0), ...parts]).subarray(-WINDOW);
    this.#queue.push({ run, parts: this.#compress(parts, length, dictionary) });
  }

  async #writeOldest(): Promise<void> {
    const { run, parts: pending } = this.#queue[0]!;
    const parts = await pending;
    this.#queue.shift();
    if (!this.#headerWritten) {
      this.push(HEADER);
      this.#headerWritten = true;
    }
    if (run.gzOffset < 0) run.gzOffset = this.#out;
    for (const part of parts) {
      this.push(part);
      run.gzBytes += part.length;
      this.#out += part.length;
    }
  }

  async #compress(parts: Buffer[], length: number, dictionary: Buffer | null): Promise<Buffer[]> {
    if (length === 0) return [];
    if (this.level === 0 || this.#incompressible(parts, length)) {
      this.storedBlocks += 1;
      return storedBlocks(parts);
    }
    const block = this.#join(parts, length);
    try {
      const deflated = await new Promise<Buffer>((resolve, reject) =>
        // chunkSize: a compressible block's output in one thread-pool round trip, not one per 16 KiB.
        deflateRaw(
          block,
          {
            level: this.level,
            finishFlush: constants.Z_SYNC_FLUSH,
            chunkSize: OUTPUT_CHUNK,
            ...(dictionary ? { dictionary } : {}),
          },
          (error, out) => (error ? reject(error) : resolve(out)),
        ),
      );
      if (deflated.length < storedSize(length)) {
        this.deflatedBlocks += 1;
        return [deflated];
      }
    } finally {
      // The deflated bytes are a new buffer: the joined input can take the next block.
      if (block.length === this.#blockSize && block !== parts[0]) this.#spare.push(block);
    }
    this.storedBlocks += 1;
    return storedBlocks(parts);
  }

  /** The block as one buffer for zlib: its only chunk, or the chunks copied into a spare buffer (fewer 1 MiB allocations, less garbage collection). */
  #join(parts: Buffer[], length: number): Buffer {
    if (parts.length === 1) return parts[0]!;
    const into =
      length === this.#blockSize ? (this.#spare.pop() ?? Buffer.allocUnsafe(length)) : Buffer.allocUnsafe(length);
    let at = 0;
    for (const part of parts) at += part.copy(into, at);
    return into;
  }

  /** Deflate three 4 KiB slices at level 1: if even they barely shrink, the block is not worth deflating. */
  #incompressible(parts: Buffer[], length: number): boolean {
    if (this.#storeAbove <= 0 || length < 4 * SAMPLE) return false;
    const third = Math.floor(length / 3);
    const slice = SAMPLE / 3;
    const sample = Buffer.concat([
      slicePart(parts, 0, slice),
      slicePart(parts, third, slice),
      slicePart(parts, length - slice, slice),
    ]);
    return deflateRawSync(sample, { level: 1 }).length > sample.length * this.#storeAbove;
  }
}

/** `length` bytes of `source` at `position` (a run copied from the previous archive); a short read is an error. */
async function readPiece(source: FileHandle, position: number, length: number): Promise<Buffer[]> {
  const into = Buffer.allocUnsafe(length);
  for (let got = 0; got < length; ) {
    const { bytesRead } = await source.read(into, got, length - got, position + got);
    if (bytesRead === 0)
      throw new Error(`the previous archive ended at ${position + got} bytes, inside a run being copied`);
    got += bytesRead;
  }
  return [into];
}

/** `length` bytes from `offset` of the concatenation of `parts` (a copy only when they span two parts). */
function slicePart(parts: readonly Buffer[], offset: number, length: number): Buffer {
  const pieces: Buffer[] = [];
  let skip = offset;
  let need = length;
  for (const part of parts) {
    if (skip >= part.length) {
      skip -= part.length;
      continue;
    }
    const piece = part.subarray(skip, skip + need);
    pieces.push(piece);
    need -= piece.length;
    skip = 0;
    if (need === 0) break;
  }
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/** The last `length` bytes of the concatenation of `parts`, copied into a buffer of their own. */
function tail(parts: readonly Buffer[], length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let end = length;
  for (let i = parts.length - 1; i >= 0 && end > 0; i -= 1) {
    const part = parts[i]!;
    const n = Math.min(end, part.length);
    part.copy(out, end - n, part.length - n);
    end -= n;
  }
  return out;
}

/** `data` (one buffer or consecutive pieces) as non-final stored deflate blocks (byte-aligned; each holds at most 65535 bytes), without copying it. */
export function storedBlocks(data: Buffer | readonly Buffer[]): Buffer[] {
  const pieces = Buffer.isBuffer(data) ? [data] : data;
  let left = pieces.reduce((sum, piece) => sum + piece.length, 0);
  const out: Buffer[] = [];
  let room = 0; // bytes the current stored block can still take
  for (const piece of pieces) {
    for (let at = 0; at < piece.length; ) {
      if (room === 0) {
        room = Math.min(STORED_MAX, left);
        const head = Buffer.alloc(5);
        head[0] = 0x00; // BFINAL=0, BTYPE=00
        head.writeUInt16LE(room, 1);
        head.writeUInt16LE(~room & 0xffff, 3);
        out.push(head);
      }
      const n = Math.min(room, piece.length - at);
      out.push(n === piece.length ? piece : piece.subarray(at, at + n));
      at += n;
      room -= n;
      left -= n;
    }
  }
  return out;
}

function storedSize(n: number): number {
  return n + 5 * Math.ceil(n / STORED_MAX);
}
