import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { constants, crc32, deflateRaw, deflateRawSync } from 'node:zlib';

// A pigz-style gzip writer: the input is cut into blocks that are deflated concurrently on
// libuv's thread pool (both cores), each primed with the 32 KiB before it (so compression is
// within a fraction of a percent of plain gzip) and ended with a sync flush, then written in
// order as ONE gzip member that `gzip -d`, GNU `tar -xzf` and zlib read like any other.
// Blocks that would not shrink (model weights, already-compressed files) are not deflated at
// all: they are written as stored deflate blocks, found by deflating a small sample first.
// Memory is bounded by blockSize x (in-flight blocks + 1), whatever the input size.

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
  #block: Buffer;
  #fill = 0;
  #previous: Buffer | null = null;
  #crc = 0;
  #size = 0;
  #queue: Promise<Buffer[]>[] = [];
  #headerWritten = false;
  /** Blocks written stored because they did not compress (for tests and the bench). */
  storedBlocks = 0;
  deflatedBlocks = 0;

  constructor(options: ParallelGzipOptions) {
    super({ readableHighWaterMark: 1024 * 1024, writableHighWaterMark: 1024 * 1024 });
    this.level = options.level;
    this.#blockSize = options.blockSize ?? 1024 * 1024;
    this.#concurrency = Math.max(1, options.concurrency ?? availableParallelism());
    this.#storeAbove = options.storeAboveRatio ?? 0.97;
    this.#block = Buffer.allocUnsafe(this.#blockSize);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#take(chunk).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    (async () => {
      if (this.#fill > 0 || !this.#headerWritten) this.#submit();
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
      const n = Math.min(this.#blockSize - this.#fill, chunk.length - at);
      chunk.copy(this.#block, this.#fill, at, at + n);
      this.#fill += n;
      at += n;
      if (this.#fill === this.#blockSize) {
        this.#submit();
        while (this.#queue.length >= this.#concurrency) await this.#writeOldest();
      }
    }
  }

  #submit(): void {
    const block = this.#block.subarray(0, this.#fill);
    this.#block = Buffer.allocUnsafe(this.#blockSize);
    this.#fill = 0;
    this.#crc = crc32(block, this.#crc);
    this.#size += block.length;
    const dictionary = this.#previous;
    this.#previous = block.length >= WINDOW ? block.subarray(block.length - WINDOW) : Buffer.concat([dictionary ?? Buffer.alloc(0), block]).subarray(-WINDOW);
    this.#queue.push(this.#compress(block, dictionary));
  }

  async #writeOldest(): Promise<void> {
    const parts = await this.#queue[0]!;
    this.#queue.shift();
    if (!this.#headerWritten) {
      this.push(HEADER);
      this.#headerWritten = true;
    }
    for (const part of parts) this.push(part);
  }

  async #compress(block: Buffer, dictionary: Buffer | null): Promise<Buffer[]> {
    if (block.length === 0) return [];
    if (this.level === 0 || this.#incompressible(block)) {
      this.storedBlocks += 1;
      return storedBlocks(block);
    }
    const deflated = await new Promise<Buffer>((resolve, reject) =>
      // chunkSize: a compressible block's output in one thread-pool round trip, not one per 16 KiB.
      deflateRaw(block, { level: this.level, finishFlush: constants.Z_SYNC_FLUSH, chunkSize: OUTPUT_CHUNK, ...(dictionary ? { dictionary } : {}) }, (error, out) => (error ? reject(error) : resolve(out))),
    );
    if (deflated.length >= storedSize(block.length)) {
      this.storedBlocks += 1;
      return storedBlocks(block);
    }
    this.deflatedBlocks += 1;
    return [deflated];
  }

  /** Deflate three 4 KiB slices at level 1: if even they barely shrink, the block is not worth deflating. */
  #incompressible(block: Buffer): boolean {
    if (this.#storeAbove <= 0 || block.length < 4 * SAMPLE) return false;
    const third = Math.floor(block.length / 3);
    const slice = SAMPLE / 3;
    const sample = Buffer.concat([block.subarray(0, slice), block.subarray(third, third + slice), block.subarray(block.length - slice)]);
    return deflateRawSync(sample, { level: 1 }).length > sample.length * this.#storeAbove;
  }
}

/** `data` as non-final stored deflate blocks (byte-aligned; each holds at most 65535 bytes). */
export function storedBlocks(data: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let at = 0; at < data.length; at += STORED_MAX) {
    const n = Math.min(STORED_MAX, data.length - at);
    const head = Buffer.alloc(5);
    head[0] = 0x00; // BFINAL=0, BTYPE=00
    head.writeUInt16LE(n, 1);
    head.writeUInt16LE(~n & 0xffff, 3);
    parts.push(head, data.subarray(at, at + n));
  }
  return parts;
}

function storedSize(n: number): number {
  return n + 5 * Math.ceil(n / STORED_MAX);
}
