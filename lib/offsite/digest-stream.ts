import { Writable, type Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashingPassThrough } from '../checksum/index.ts';

/** sha256 and byte count of a stream, through optional transforms; a failure anywhere rejects (never hangs). */
export async function digestStream(
  source: Readable,
  ...transforms: Transform[]
): Promise<{ size: number; sha256: string }> {
  const hasher = new HashingPassThrough();
  const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  await pipeline([source, ...transforms, hasher, discard]);
  return { size: hasher.bytes, sha256: hasher.digest() };
}
