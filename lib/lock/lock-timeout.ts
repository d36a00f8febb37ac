import { UsageError } from '../errors.ts';
import { parseDuration } from '../policy/index.ts';

/** How long a backup or prune waits for another one on the same backup folder by default. */
export const DEFAULT_LOCK_TIMEOUT_MS = 10 * 60_000;

/** The --help lines of --lock-timeout, indented like COMMON_HELP. */
export const LOCK_TIMEOUT_HELP = `  --lock-timeout T   wait at most T for another backup or prune of the same backup folder:
                     seconds (0: do not wait) or an ISO-8601 duration (PT30M); default PT10M`;

/** `--lock-timeout`: seconds ("90", "0", "2.5") or an ISO-8601 duration ("PT10M"). UsageError otherwise. */
export function parseLockTimeout(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LOCK_TIMEOUT_MS;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  if (/^P/.test(value)) {
    try {
      return parseDuration(value);
    } catch {
      // fall through to the usage error
    }
  }
  throw new UsageError(
    `--lock-timeout must be seconds (e.g. 600, 0 to not wait) or an ISO-8601 duration (e.g. PT10M), got ${JSON.stringify(value)}`,
  );
}
