// Typed errors: every failure an operator can meet has a stable `code`, a message that says
// what to do, and the exit code the command returns (EXIT_CODES below: one table for all).

export type ExitCode = 0 | 1 | 2 | 3 | 4;

export const EXIT = { ok: 0, failed: 1, usage: 2, integrity: 3, locked: 4 } as const;

/**
 * What each exit code means, the same from every command (README's table and every --help
 * come from here). A restore that brings back, exactly as backed up, files that were already
 * invalid when the backup ran exits 0 and names them: what it restored verified; full-backup,
 * verify and the ark_invalid_state_files gauge are where invalid live data is reported.
 */
export const EXIT_CODES: readonly { code: ExitCode; name: keyof typeof EXIT; meaning: string }[] = [
  { code: 0, name: 'ok', meaning: 'done; everything it made or restored verified' },
  {
    code: 1,
    name: 'failed',
    meaning: 'could not do it (a service, the network, the disk); the message says what was left changed, if anything',
  },
  { code: 2, name: 'usage', meaning: 'bad command line, policy or compose file: nothing was done' },
  {
    code: 3,
    name: 'integrity',
    meaning:
      'data does not verify (a checksum mismatch, a damaged archive, an invalid state file archived): each is named',
  },
  {
    code: 4,
    name: 'locked',
    meaning: "another run holds the backup folder's lock: nothing was done; run it again later",
  },
];

export interface ArkErrorOptions {
  exitCode?: ExitCode;
  cause?: unknown;
  /** True when the same call may succeed if tried again (network, busy lock). */
  retryable?: boolean;
  /** Extra machine-readable facts for --json output (never secrets). */
  details?: Record<string, unknown>;
}

export class ArkError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: ArkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = options.exitCode ?? EXIT.failed;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

/** Bad command line: unknown flag, malformed date, hostile module name. Exit 2. */
export class UsageError extends ArkError {
  constructor(message: string, options: Omit<ArkErrorOptions, 'exitCode'> = {}) {
    super('USAGE', message, { ...options, exitCode: EXIT.usage });
  }
}

/** ark.policy.toml (or --policy FILE) does not parse or validate. Exit 2. */
export class PolicyError extends ArkError {
  constructor(message: string, options: Omit<ArkErrorOptions, 'exitCode'> = {}) {
    super('POLICY_INVALID', message, { ...options, exitCode: EXIT.usage });
  }
}

/** A docker-compose.yml (the root's, or --compose FILE) cannot be read or makes no sense (unknown dependency, a cycle). Exit 2. */
export class ComposeError extends ArkError {
  constructor(message: string, options: Omit<ArkErrorOptions, 'exitCode'> = {}) {
    super('COMPOSE_INVALID', message, { ...options, exitCode: EXIT.usage });
  }
}

/** Data does not verify: checksum mismatch, invalid TOML, truncated archive. Exit 3. */
export class IntegrityError extends ArkError {
  constructor(code: string, message: string, options: Omit<ArkErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...options, exitCode: EXIT.integrity });
  }
}

/** Something that should exist does not: backup, date, module state. Exit 1. */
export class NotFoundError extends ArkError {
  constructor(code: string, message: string, options: Omit<ArkErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...options, exitCode: EXIT.failed });
  }
}

/** A service could not be stopped, started, or did not become healthy in time. Exit 1. */
export class ServiceError extends ArkError {
  constructor(code: string, message: string, options: Omit<ArkErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...options, exitCode: EXIT.failed });
  }
}

export function isArkError(error: unknown): error is ArkError {
  return error instanceof ArkError;
}

/** The errno failures an operator can meet on a disk, each with its stable code and what it means. */
const IO_KINDS: Record<string, { code: string; what: string }> = {
  ENOSPC: { code: 'IO_NO_SPACE', what: 'no space left on the file system' },
  EDQUOT: { code: 'IO_NO_SPACE', what: 'no space left: the disk quota is exceeded' },
  EIO: { code: 'IO_ERROR', what: 'an I/O error (the disk or its file system failed)' },
  EACCES: { code: 'IO_PERMISSION', what: 'permission denied' },
  EPERM: { code: 'IO_PERMISSION', what: 'operation not permitted' },
  EROFS: { code: 'IO_READ_ONLY', what: 'the file system is read-only' },
  EMFILE: { code: 'IO_TOO_MANY_FILES', what: 'too many open files' },
  ENFILE: { code: 'IO_TOO_MANY_FILES', what: 'too many open files on this system' },
};

/** The errno error behind `error` (itself, or a cause down its chain) when it is a disk failure IO_KINDS knows. */
export function diskFailureOf(error: unknown): NodeJS.ErrnoException | null {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth += 1) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code in IO_KINDS) return e as NodeJS.ErrnoException;
  }
  return null;
}

/** "no space left on the file system (ENOSPC)": what a disk failure means, for a message. */
export function describeDiskFailure(errno: NodeJS.ErrnoException): string {
  return `${IO_KINDS[errno.code!]?.what ?? errno.message} (${errno.code})`;
}

/** Why a file-system call failed, for a message: a disk failure in words, else its errno code or message. */
export function failureText(error: unknown): string {
  const errno = diskFailureOf(error);
  if (errno) return describeDiskFailure(errno);
  return (error as NodeJS.ErrnoException)?.code ?? (error instanceof Error ? error.message : String(error));
}

/**
 * A file-system call failed (no space, I/O error, permission, read-only): what failed, where,
 * and whether anything was changed. Exit 1. `details` carries errno, syscall and path.
 */
export class IoError extends ArkError {
  constructor(errno: NodeJS.ErrnoException, changed: string, options: { doing?: string; free?: string } = {}) {
    const kind = IO_KINDS[errno.code!] ?? { code: 'IO_ERROR' };
    const call = [errno.syscall, errno.path].filter(Boolean).join(' ');
    const doing = options.doing ? `${options.doing}: ` : '';
    super(
      kind.code,
      `${doing}${call || 'a file-system call'} failed: ${describeDiskFailure(errno)}${options.free ? `; ${options.free}` : ''}. ${changed}`.trim(),
      {
        cause: errno,
        details: { errno: errno.code, syscall: errno.syscall ?? null, path: errno.path ?? null },
      },
    );
  }
}

/**
 * `error` as an IoError when it is a disk failure not yet named, saying what `changed`
 * ("Nothing in /srv/arkalia was changed."); anything else is returned as it is.
 */
export function nameDiskFailure(error: unknown, changed: string, doing?: string): unknown {
  if (error instanceof ArkError) return error;
  const errno = diskFailureOf(error);
  return errno ? new IoError(errno, changed, doing ? { doing } : {}) : error;
}

/** Any thrown value as an ArkError: disk failures become an IoError, other unknown errors code UNEXPECTED, exit 1. */
export function toArkError(error: unknown): ArkError {
  if (error instanceof ArkError) return error;
  const errno = diskFailureOf(error);
  if (errno) return new IoError(errno, 'The messages above say what was done before it.');
  const message = error instanceof Error ? error.message : String(error);
  return new ArkError('UNEXPECTED', message, { cause: error });
}
