import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { digestStream } from './digest-stream.ts';
import type { PutBody, Remote, RemoteDigest } from './remote.ts';
import { RemoteError, type RemoteOperation } from './remote-error.ts';

// Fault injection by wrapping a REAL backend (restic's approach): the bytes still go to a
// real folder, ssh host or S3 server, and the wrapper corrupts or fails them on the way.
// For tests and drills; nothing in a pipeline depends on it.

export interface FaultOptions {
  /** Flip one bit (the lowest of byte `flipOffset`, default 0) of what get() and digest() read. */
  flipBitOnRead?: boolean | ((name: string) => boolean);
  /** Flip one bit of what put() sends, so the remote stores something else than the source. */
  flipBitOnPut?: boolean | ((name: string) => boolean);
  flipOffset?: number;
  /** Fail every nth call (counted over `operations`, default all) before it reaches the backend. */
  failEvery?: {
    n: number;
    operations?: readonly RemoteOperation[];
    error?: (operation: RemoteOperation, name: string | undefined) => Error;
  };
}

export type FaultyRemote = Remote & {
  /** Every call that reached the wrapper, in order (failed ones included). */
  readonly calls: { operation: RemoteOperation; name: string | null; failed: boolean }[];
};

export function withFaults(remote: Remote, options: FaultOptions = {}): FaultyRemote {
  const calls: FaultyRemote['calls'] = [];
  let counted = 0;
  const wants = (option: FaultOptions['flipBitOnRead'], name: string) =>
    typeof option === 'function' ? option(name) : option === true;
  const offset = options.flipOffset ?? 0;

  const enter = (operation: RemoteOperation, name: string | undefined) => {
    const every = options.failEvery;
    const call = { operation, name: name ?? null, failed: false };
    calls.push(call);
    if (!every || !(every.operations ?? [operation]).includes(operation)) return;
    counted += 1;
    if (counted % every.n !== 0) return;
    call.failed = true;
    throw (
      every.error?.(operation, name) ??
      new RemoteError('REMOTE_TRANSIENT', `injected fault (call ${counted})`, {
        target: remote.target,
        operation,
        ...(name === undefined ? {} : { name }),
        retryable: true,
      })
    );
  };

  const faulty: FaultyRemote = {
    target: remote.target,
    calls,
    async list() {
      enter('list', undefined);
      return remote.list();
    },
    async stat(name) {
      enter('stat', name);
      return remote.stat(name);
    },
    async put(name, body: PutBody) {
      enter('put', name);
      if (!wants(options.flipBitOnPut, name)) return remote.put(name, body);
      // Drop the hints: a backend must not bypass the corrupted stream by reading the file.
      return remote.put(name, { size: body.size, open: () => through(body.open(), flipBit(offset)) });
    },
    ...(remote.copy
      ? {
          async copy(from: string, to: string) {
            enter('copy', to);
            return remote.copy!(from, to);
          },
        }
      : {}),
    async get(name) {
      enter('get', name);
      const stream = await remote.get(name);
      return wants(options.flipBitOnRead, name) ? through(stream, flipBit(offset)) : stream;
    },
    async digest(name): Promise<RemoteDigest> {
      enter('digest', name);
      if (!wants(options.flipBitOnRead, name)) return remote.digest(name);
      return { ...(await digestStream(await remote.get(name), flipBit(offset))), method: 'read-back' };
    },
    async delete(name) {
      enter('delete', name);
      return remote.delete(name);
    },
  };
  return faulty;
}

/** A pass-through that flips the lowest bit of byte `offset`. */
export function flipBit(offset = 0): Transform {
  let position = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      if (offset >= position && offset < position + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[offset - position]! ^= 1;
      }
      position += chunk.length;
      callback(null, chunk);
    },
  });
}

function through<T extends Transform>(source: Readable, transform: T): T {
  pipeline(source, transform, () => {});
  return transform;
}
