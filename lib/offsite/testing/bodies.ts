import { Readable } from 'node:stream';
import { sha256Buffer } from '../../checksum/index.ts';
import type { PutBody } from '../remote.ts';

/** An upload body from bytes in memory. */
export function bodyOf(data: Buffer | string, hints: { withSha256?: boolean } = {}): PutBody {
  const bytes = Buffer.from(data);
  return {
    size: bytes.length,
    open: () => Readable.from(chunks(bytes)),
    ...(hints.withSha256 ? { sha256: sha256Buffer(bytes) } : {}),
  };
}

/** A body that yields `failAfter` bytes, then errors (the source disk failing mid-read). */
export function failingBody(data: Buffer, failAfter: number): PutBody {
  return {
    size: data.length,
    open: () =>
      Readable.from(
        (async function* () {
          yield data.subarray(0, failAfter);
          throw new Error('injected: source read failed');
        })(),
      ),
  };
}

/** A body declaring `declared` bytes but yielding `data` (truncated or grown source). */
export function lyingBody(data: Buffer, declared: number): PutBody {
  return { size: declared, open: () => Readable.from([data]) };
}

/**
 * A body that yields its first half, then waits for release(): while it waits, the upload is
 * in flight and a reader must still see the old file (or none).
 */
export function pausedBody(data: Buffer): { body: PutBody; halfway: Promise<void>; release(): void } {
  let release!: () => void;
  let reached!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const halfway = new Promise<void>((resolve) => (reached = resolve));
  const half = Math.floor(data.length / 2);
  return {
    body: {
      size: data.length,
      open: () =>
        Readable.from(
          (async function* () {
            yield data.subarray(0, half);
            reached();
            await released;
            yield data.subarray(half);
          })(),
        ),
    },
    halfway,
    release,
  };
}

function* chunks(bytes: Buffer, size = 64 * 1024): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
