import { IntegrityError, isArkError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { fetchToFile, type Remote, type RetryOptions } from '../offsite/index.ts';
import { offsitePath } from './read-offsite-index.ts';

export interface FetchRecord {
  name: string;
  bytes: number;
  sha256: string;
  /** Downloads it took (2: the first one did not match and the second did). */
  attempts: number;
}

/**
 * fetchToFile (hidden temp file, renamed only when size and sha256 match; transient failures
 * retried with backoff), plus one more download when the bytes do not match: a copy damaged in
 * transit is told apart from a copy damaged on the offsite, which fails (OFFSITE_COPY_CORRUPT,
 * exit 3) naming the file and both digests. Nothing is left at `dest` unless it matched.
 */
export async function fetchVerified(
  remote: Remote,
  name: string,
  dest: string,
  expected: { sha256: string; size: number },
  options: { sink: EventSink; retry?: RetryOptions; onBytes?: (bytes: number) => void },
): Promise<FetchRecord> {
  const seen: unknown[] = [];
  for (let attempt = 1; ; attempt += 1) {
    try {
      const got = await fetchToFile(remote, name, dest, expected, options.retry, options.onBytes);
      options.sink({
        kind: 'offsite-fetched',
        target: remote.target,
        name,
        bytes: got.size,
        sha256: got.sha256,
        attempts: attempt,
      });
      return { name, bytes: got.size, sha256: got.sha256, attempts: attempt };
    } catch (error) {
      if (!(isArkError(error) && error.code === 'OFFSITE_FETCH_MISMATCH')) throw error;
      seen.push(error.details.actual);
      if (attempt >= 2) {
        throw new IntegrityError(
          'OFFSITE_COPY_CORRUPT',
          `${offsitePath(remote.target, name)} does not match the offsite SHA256SUMS: downloaded ${attempt} times, got ${seen.map((s) => describe(s)).join(', then ')}; expected ${expected.size} bytes with sha256 ${expected.sha256}. The offsite copy is damaged; nothing of it was kept.`,
          {
            cause: error,
            details: { name, expected, actual: seen },
          },
        );
      }
      options.sink({
        kind: 'warning',
        code: 'OFFSITE_FETCH_MISMATCH',
        message: `${name} did not match the offsite SHA256SUMS (${describe(error.details.actual)}): downloading it again`,
      });
    }
  }
}

function describe(actual: unknown): string {
  const a = actual as { size?: number; sha256?: string } | undefined;
  return `${a?.size ?? '?'} bytes with sha256 ${a?.sha256 ?? '?'}`;
}
