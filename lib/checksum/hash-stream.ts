import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A pass-through that hashes and counts what flows through it: hash while writing, one pass. */
export class HashingPassThrough extends Transform {
  readonly #hash: Hash = createHash('sha256');
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** Hex sha256 of everything that passed; call once, after the stream finished. */
  digest(): string {
    return this.#hash.digest('hex');
  }
}

/** sha256 of a file, streamed (memory does not grow with the file). */
export async function sha256File(path: string): Promise<{ sha256: string; bytes: number }> {
  const hasher = new HashingPassThrough();
  await pipeline(createReadStream(path), hasher, async function* (source) {
    for await (const _ of source) {
      // drain: the hasher has already seen the chunk
    }
  });
  return { sha256: hasher.digest(), bytes: hasher.bytes };
}

export function sha256Buffer(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
