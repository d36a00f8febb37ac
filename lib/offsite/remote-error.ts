import { ArkError, EXIT, type ArkErrorOptions } from '../errors.ts';

// Failures talking to an offsite target. Every one names the target and what was being done,
// and says whether trying again can help: retryable ones (5xx, SlowDown, timeouts, dropped
// connections, nothing listening yet) go through withRetry; permanent ones (access denied,
// missing bucket or folder, ssh authentication, disk full) fail at once.

export type RemoteOperation = 'list' | 'stat' | 'put' | 'copy' | 'get' | 'digest' | 'delete';

export interface RemoteErrorOptions extends Omit<ArkErrorOptions, 'exitCode'> {
  target: string;
  operation: RemoteOperation;
  name?: string;
  retryable: boolean;
}

export class RemoteError extends ArkError {
  readonly target: string;
  readonly operation: RemoteOperation;
  readonly remoteName: string | undefined;
  /** The message without the "target: operation name:" lead. */
  readonly reason: string;

  constructor(code: string, reason: string, options: RemoteErrorOptions) {
    const what = options.name === undefined ? options.operation : `${options.operation} ${options.name}`;
    super(code, `${options.target}: ${what}: ${reason}`, {
      exitCode: EXIT.failed,
      retryable: options.retryable,
      cause: options.cause,
      details: {
        target: options.target,
        operation: options.operation,
        ...(options.name ? { name: options.name } : {}),
        retryable: options.retryable,
        ...options.details,
      },
    });
    this.target = options.target;
    this.operation = options.operation;
    this.remoteName = options.name;
    this.reason = reason;
  }
}

/** The same failure, after `attempts` tries: no longer worth retrying at a higher level. */
export function gaveUp(error: RemoteError, attempts: number): RemoteError {
  return new RemoteError(error.code, `${error.reason} (gave up after ${attempts} attempts)`, {
    target: error.target,
    operation: error.operation,
    ...(error.remoteName === undefined ? {} : { name: error.remoteName }),
    retryable: false,
    cause: error,
    details: { attempts },
  });
}

export function isRemoteError(error: unknown): error is RemoteError {
  return error instanceof RemoteError;
}

/** An invalid name never reaches a backend (no path traversal, no option injection). */
export function invalidName(target: string, operation: RemoteOperation, name: string): RemoteError {
  return new RemoteError(
    'REMOTE_INVALID_NAME',
    `refusing file name ${JSON.stringify(name)}: only letters, digits and _ . + - are allowed`,
    { target, operation, retryable: false },
  );
}
