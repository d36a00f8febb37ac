import pRetry from 'p-retry';
import type { PutBody, Remote } from './remote.ts';
import { gaveUp, RemoteError, type RemoteOperation } from './remote-error.ts';
import type { EventSink } from '../events.ts';

// Transient failures (RemoteError.retryable: 5xx, SlowDown, timeouts, dropped connections,
// nothing listening) are retried with bounded exponential backoff and jitter; permanent ones
// (access denied, missing bucket, ssh authentication, disk full) and anything that is not a
// RemoteError fail at once. Every operation of a Remote is idempotent (put is atomic and
// rewrites the same bytes, delete of a missing file succeeds), so retrying is always safe.

export interface RetryPolicy {
  /** Retries after the first attempt (attempts = retries + 1). */
  retries: number;
  /** Delay before the first retry. */
  minDelayMs: number;
  /** Cap of any single delay. */
  maxDelayMs: number;
  factor: number;
}

/** 5 attempts, waiting ~0.5 s, 1 s, 2 s, 4 s (±25 % jitter): about 8 s before giving up. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  retries: 4,
  minDelayMs: 500,
  maxDelayMs: 8_000,
  factor: 2,
});

export interface RetryInfo {
  target: string;
  operation: RemoteOperation;
  name: string | null;
  /** The attempt that failed (1-based). */
  attempt: number;
  retriesLeft: number;
  delayMs: number;
  error: RemoteError;
}

/** A pipeline's onRetry: each wait before a retry, as an `offsite-retry` event. */
export function retryEvents(sink: EventSink): (info: RetryInfo) => void {
  return (info) =>
    sink({
      kind: 'offsite-retry',
      target: info.target,
      operation: info.operation,
      name: info.name,
      attempt: info.attempt,
      retriesLeft: info.retriesLeft,
      delayMs: info.delayMs,
      code: info.error.code,
      reason: info.error.reason,
    });
}

export interface RetryOptions {
  policy?: Partial<RetryPolicy>;
  /** Told before each wait (the pipeline turns it into an `offsite-retry` event). */
  onRetry?: (info: RetryInfo) => void;
  /** Injected in tests so that backoff costs no time. */
  sleep?: (ms: number) => Promise<void>;
  /** In [0, 1): jitter source. */
  random?: () => number;
}

/** Delay before retry number `retry` (1-based): min * factor^(retry-1), capped, then jittered to 75-125 %. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const base = Math.min(policy.maxDelayMs, policy.minDelayMs * policy.factor ** (retry - 1));
  return Math.min(policy.maxDelayMs, Math.round(base * (0.75 + random() / 2)));
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Run `fn` under the retry policy. */
export async function retrying<T>(
  what: { target: string; operation: RemoteOperation; name?: string },
  fn: () => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const policy = { ...DEFAULT_RETRY_POLICY, ...options.policy };
  const sleep = options.sleep ?? realSleep;
  let attempts = 0;
  try {
    return await pRetry(
      async () => {
        attempts += 1;
        return fn();
      },
      {
        retries: policy.retries,
        minTimeout: 0, // we wait ourselves in onFailedAttempt, with an injectable sleep
        maxTimeout: 0,
        randomize: false,
        shouldRetry: ({ error }) => error instanceof RemoteError && error.retryable,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (!(error instanceof RemoteError && error.retryable) || retriesLeft === 0) return;
          const delayMs = backoffDelay(attemptNumber, policy, options.random);
          options.onRetry?.({
            target: what.target,
            operation: what.operation,
            name: what.name ?? null,
            attempt: attemptNumber,
            retriesLeft,
            delayMs,
            error,
          });
          await sleep(delayMs);
        },
      },
    );
  } catch (error) {
    if (error instanceof RemoteError && error.retryable && attempts > 1) throw gaveUp(error, attempts);
    throw error;
  }
}

/** The same remote, with every operation retried under the policy. */
export function withRetry(remote: Remote, options: RetryOptions = {}): Remote {
  const run = <T>(operation: RemoteOperation, name: string | undefined, fn: () => Promise<T>) =>
    retrying({ target: remote.target, operation, ...(name === undefined ? {} : { name }) }, fn, options);
  return {
    target: remote.target,
    list: () => run('list', undefined, () => remote.list()),
    stat: (name) => run('stat', name, () => remote.stat(name)),
    // Each attempt calls body.open() again inside the backend: a fresh stream per attempt.
    put: (name, body: PutBody) => run('put', name, () => remote.put(name, body)),
    ...(remote.copy ? { copy: (from: string, to: string) => run('copy', to, () => remote.copy!(from, to)) } : {}),
    get: (name) => run('get', name, () => remote.get(name)),
    digest: (name) => run('digest', name, () => remote.digest(name)),
    delete: (name) => run('delete', name, () => remote.delete(name)),
  };
}
