import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { HashingPassThrough } from '../checksum/index.ts';
import { IntegrityError } from '../errors.ts';
import { fsyncDir } from '../state/index.ts';
import type { Remote } from './remote.ts';
import { retrying, type RetryOptions } from './with-retry.ts';
import { classifyFsError } from './local-remote.ts';
import { RemoteError } from './remote-error.ts';

export interface FetchedFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Download `name` to `dest` and prove it is the expected file before it appears there: the
 * bytes stream into a hidden temp file beside `dest` while being hashed; only when size and
 * sha256 match `expected` is it fsynced and renamed to `dest`. A mismatch is an integrity
 * error (exit 3) and leaves no file. A dropped connection mid-download restarts the whole
 * download (retry policy); a mismatch is never retried. Used by disk recovery to fetch the
 * newest offsite backup, with `expected` taken from the remote SHA256SUMS.
 */
export async function fetchToFile(
  remote: Remote,
  name: string,
  dest: string,
  expected: { sha256: string; size?: number },
  retry: RetryOptions = {},
  onBytes?: (bytes: number) => void,
): Promise<FetchedFile> {
  const tmp = join(dirname(dest), `.${basename(dest)}.part-${randomBytes(4).toString('hex')}`);
  try {
    const got = await retrying(
      { target: remote.target, operation: 'get', name },
      async () => {
        const hasher = new HashingPassThrough(onBytes ? { onBytes } : {});
        try {
          await pipeline(await remote.get(name), hasher, createWriteStream(tmp, { mode: 0o600, flush: true }));
        } catch (error) {
          // A stream that breaks after get() resolved (connection reset) is worth a retry; a local write failure is not.
          if (error instanceof RemoteError) throw error;
          const code = (error as NodeJS.ErrnoException).code;
          if (code && ['ENOSPC', 'EACCES', 'EPERM', 'EROFS', 'EDQUOT'].includes(code))
            throw classifyFsError(dirname(dest), 'get', name, error);
          throw new RemoteError('REMOTE_TRANSIENT', `download interrupted: ${(error as Error).message}`, {
            target: remote.target,
            operation: 'get',
            name,
            retryable: true,
            cause: error,
          });
        }
        return { size: hasher.bytes, sha256: hasher.digest() };
      },
      retry,
    );
    if (got.sha256 !== expected.sha256 || (expected.size !== undefined && got.size !== expected.size)) {
      throw new IntegrityError(
        'OFFSITE_FETCH_MISMATCH',
        `${remote.target}: ${name} downloaded as ${got.size} bytes with sha256 ${got.sha256}, expected ${expected.size ?? '?'} bytes with sha256 ${expected.sha256}; nothing was written to ${dest}`,
        {
          details: { name, expected, actual: got },
        },
      );
    }
    await rename(tmp, dest);
    await fsyncDir(dirname(dest));
    return { path: dest, ...got };
  } finally {
    await rm(tmp, { force: true }).catch(() => {});
  }
}
