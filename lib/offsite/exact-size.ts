import { Transform, type Readable, type TransformCallback } from 'node:stream';

/** The upload body yielded more or fewer bytes than it declared: never committed. */
export class BodySizeError extends Error {
  readonly expected: number;
  readonly actual: number;

  constructor(expected: number, actual: number) {
    super(`the upload body has ${actual > expected ? 'more than' : 'only'} ${actual} bytes, ${expected} were declared`);
    this.name = 'BodySizeError';
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * A pass-through that fails the stream when it carries more or fewer than `size` bytes, so a
 * truncated or grown source can never be committed under a real name.
 */
export function exactSize(size: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > size) callback(new BodySizeError(size, seen));
      else callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      callback(seen === size ? null : new BodySizeError(size, seen));
    },
  });
}

/** Reading the upload body failed (the local source file): never retried, nothing committed. */
export class BodyReadError extends Error {
  constructor(cause: unknown) {
    super(`reading the upload source failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'BodyReadError';
  }
}

/**
 * `source` through exactSize(size), with the source's errors forwarded (a bare .pipe() would
 * leave the consumer waiting forever when the source fails).
 */
export function sized(source: Readable, size: number): Transform {
  const checked = exactSize(size);
  source.once('error', (error) => checked.destroy(error instanceof BodySizeError ? error : new BodyReadError(error)));
  source.pipe(checked);
  return checked;
}
