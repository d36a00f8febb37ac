import { randomBytes } from 'node:crypto';
import { unlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { ArkError, EXIT, IoError, describeDiskFailure, diskFailureOf } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { breakStaleLock, sweepLockLeftovers } from './break-stale-lock.ts';
import { createExclusive } from './create-exclusive.ts';
import {
  describeHolder,
  formatAgo,
  formatLockRecord,
  readLockFile,
  type LockFileState,
  type LockRecord,
} from './lock-record.ts';
import { DEFAULT_LOCK_TIMEOUT_MS } from './lock-timeout.ts';
import {
  currentProcess,
  processLiveness,
  systemProbe,
  type Liveness,
  type ProcessIdentity,
  type ProcessProbe,
} from './process-identity.ts';

export const LOCK_FILE_NAME = '.arkalia-dr.lock';

export const lockPath = (backupDir: string, lockName: string = LOCK_FILE_NAME): string =>
  join(resolve(backupDir), lockName);

export interface LockOptions {
  /** The backup folder (--backup-dir) the lock guards; it must exist. */
  backupDir: string;
  /** The lock file's name in that folder (default LOCK_FILE_NAME); lib/metrics locks its textfile with `<file>.lock`. */
  lockName?: string;
  /** Wait at most this long for the holder to finish (0: do not wait). */
  timeoutMs?: number;
  /** Recorded in the lock so that a waiting operator sees what holds it. */
  command?: string;
  sink?: EventSink;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** Who this process is, and how to look at others: tests simulate several processes. */
  self?: ProcessIdentity;
  probe?: ProcessProbe;
}

export interface BackupLock {
  path: string;
  backupDir: string;
  record: LockRecord;
  /** How long acquisition waited for another run (0 when the lock was free). */
  waitedMs: number;
  /** Throws LOCK_LOST if the lock file no longer holds this holding (removed by hand?). */
  assertHeld(): Promise<void>;
  /** Idempotent. Removes the lock file only if it is still ours. */
  release(): Promise<void>;
}

/** The backup folder is held by another run and did not come free in time. Exit 4 (locked), retryable. */
export class LockHeldError extends ArkError {
  constructor(message: string, details: Record<string, unknown>) {
    super('LOCK_HELD', message, { retryable: true, details, exitCode: EXIT.locked });
  }
}

/**
 * Take the backup folder's lock: one backup or prune at a time per folder, across processes
 * and hosts sharing it. Waits (polling, up to timeoutMs) while another live run holds it,
 * saying once who it waits for. A lock whose process is certainly dead (same host and boot,
 * pid gone or reused) is removed safely (see breakStaleLock) and taken. A lock from another
 * host or PID namespace is never removed automatically: the error says how to remove it.
 */
export async function acquireBackupLock(options: LockOptions): Promise<BackupLock> {
  const backupDir = resolve(options.backupDir);
  const path = lockPath(backupDir, options.lockName);
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const sink = options.sink ?? (() => {});
  const self = options.self ?? currentProcess();
  const probe = options.probe ?? systemProbe;
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const started = now().getTime();
  const record: LockRecord = {
    ...self,
    token: randomBytes(12).toString('hex'),
    since: now().toISOString(),
    command: options.command ?? describeCommand(process.argv),
  };

  let delay = 20;
  let announced = false;
  let contended = false;
  for (;;) {
    let created: boolean;
    try {
      created = await createExclusive(path, formatLockRecord(record));
    } catch (error) {
      throw lockIoError(path, error);
    }
    if (created) {
      const waitedMs = contended ? Math.max(0, now().getTime() - started) : 0;
      await sweepLockLeftovers(path, record.token, 3_600_000, now().getTime()).catch(() => {});
      if (announced) sink({ kind: 'lock-acquired', path, waitedMs });
      return heldLock(path, backupDir, record, waitedMs, sink);
    }

    contended = true;
    const state = await readLockFile(path);
    if (state.kind === 'absent') continue; // released between our attempt and our look: try again at once
    let liveness: Liveness = { state: 'unknown', reason: 'its lock file cannot be read' };
    if (state.kind === 'record') {
      const holder = state.record;
      if (
        holder.pid === self.pid &&
        holder.host === self.host &&
        holder.pidNamespace === self.pidNamespace &&
        holder.startTicks === self.startTicks
      ) {
        if (!heldHere.has(path)) {
          // Ours, but no lock of this process holds it: an earlier run in this same process
          // (snapshot --watch) could not remove it. Nobody else can hold it: take it back.
          await unlink(path).catch((error: unknown) => {
            throw lockIoError(path, error);
          });
          continue;
        }
        throw new ArkError(
          'LOCK_REENTRANT',
          `this process already holds ${path} (${holder.command}): a pipeline took the backup folder's lock twice`,
        );
      }
      liveness = processLiveness(holder, self, probe);
      if (liveness.state === 'dead') {
        const outcome = await breakStaleLock(path, holder, record, self, probe).catch((error: unknown) => {
          throw lockIoError(path, error);
        });
        if (outcome === 'broken') {
          sink({
            kind: 'lock-broken',
            path,
            holder: holderFacts(holder),
            reason: `removed a stale lock (${liveness.reason}): ${describeHolder(holder, now())}`,
          });
        }
        if (outcome !== 'busy') continue;
      }
    }

    const waited = now().getTime() - started;
    if (waited >= timeoutMs) throw heldError(path, backupDir, state, liveness, waited, timeoutMs, now());
    if (!announced) {
      announced = true;
      sink({
        kind: 'lock-waiting',
        path,
        holder: state.kind === 'record' ? holderFacts(state.record) : null,
        message: `${backupDir} is in use by ${state.kind === 'record' ? describeHolder(state.record, now()) : `an unknown run (${path} ${state.reason})`}; waiting up to ${formatDuration(timeoutMs)} (--lock-timeout)`,
      });
    }
    await sleep(Math.min(delay, Math.max(1, timeoutMs - waited)));
    delay = Math.min(delay * 2, 500);
  }
}

/**
 * Run `fn` holding the backup folder's lock; always released afterwards, also when `fn`
 * throws. A lock file that cannot be removed (a disk error) does not undo what `fn` did: it
 * is a warning, and the next run removes it (its process is gone by then).
 */
export async function withBackupLock<T>(options: LockOptions, fn: (lock: BackupLock) => Promise<T>): Promise<T> {
  const lock = await acquireBackupLock(options);
  try {
    return await fn(lock);
  } finally {
    await lock.release().catch((error: unknown) => {
      const errno = diskFailureOf(error);
      options.sink?.({
        kind: 'warning',
        code: 'LOCK_NOT_REMOVED',
        message: `could not remove the lock file ${lock.path} (${errno ? describeDiskFailure(errno) : error instanceof Error ? error.message : String(error)}): what this run did stands, and the next run removes it`,
      });
    });
  }
}

/** Lock files this process holds right now (a lock file naming this process but not in here is a leftover). */
const heldHere = new Set<string>();

function heldLock(path: string, backupDir: string, record: LockRecord, waitedMs: number, sink: EventSink): BackupLock {
  let released = false;
  heldHere.add(path);
  const stillOurs = async (): Promise<boolean> => {
    let state = await readLockFile(path);
    if (state.kind === 'unreadable') state = await readLockFile(path); // a transient read error: once more
    return state.kind === 'record' && state.record.token === record.token;
  };
  return {
    path,
    backupDir,
    record,
    waitedMs,
    async assertHeld() {
      if (released || !(await stillOurs())) {
        throw new ArkError(
          'LOCK_LOST',
          `${path} no longer holds this run's lock (was it removed by hand?): stopping before changing anything else. Check that no other backup or prune is running, then run again.`,
        );
      }
    },
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(path);
      if (await stillOurs()) {
        const remove = () =>
          unlink(path).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') throw error;
          });
        await remove()
          .catch(remove) // a one-off error: once more
          .catch((error: unknown) => {
            throw lockIoError(path, error);
          });
      } else {
        sink({
          kind: 'warning',
          code: 'LOCK_LOST',
          message: `${path} was removed or replaced while this run held it; left as it is`,
        });
      }
    },
  };
}

function heldError(
  path: string,
  backupDir: string,
  state: LockFileState,
  liveness: Liveness,
  waitedMs: number,
  timeoutMs: number,
  now: Date,
): LockHeldError {
  const waited =
    timeoutMs === 0
      ? 'not waiting (--lock-timeout 0)'
      : `gave up after waiting ${formatDuration(waitedMs)} (--lock-timeout)`;
  if (state.kind !== 'record') {
    return new LockHeldError(
      `${backupDir} is locked, but its lock file ${path} ${state.kind === 'unreadable' ? state.reason : 'vanished'}; ${waited}. If no backup or prune is running on any host using this folder, remove ${path} by hand.`,
      { lock: path, holder: null },
    );
  }
  const holder = state.record;
  const who = `${backupDir} is in use by another arkalia-dr run: ${describeHolder(holder, now)}; ${waited}.`;
  const advice =
    liveness.state === 'unknown'
      ? ` ${capitalise(liveness.reason)}, so this lock is never removed automatically: if no arkalia-dr run is active there, remove ${path} by hand.`
      : liveness.state === 'dead'
        ? ` Its process is gone, but another run is removing the stale lock right now; try again.`
        : ` Wait for it to finish, or pass a longer --lock-timeout; if it is stuck, stop it (kill ${holder.pid}): a lock whose process is gone is removed automatically.`;
  return new LockHeldError(who + advice, { lock: path, holder: holderFacts(holder), holder_state: liveness.state });
}

function holderFacts(record: LockRecord): { pid: number; host: string; since: string; command: string } {
  return { pid: record.pid, host: record.host, since: record.since, command: record.command };
}

function lockIoError(path: string, error: unknown): ArkError {
  if (error instanceof ArkError) return error;
  const errno = diskFailureOf(error);
  if (errno) return new IoError(errno, 'Nothing was changed.', { doing: `cannot use the lock file ${path}` });
  const code = (error as NodeJS.ErrnoException).code;
  return new ArkError(
    'LOCK_IO',
    `cannot use the lock file ${path}: ${code ?? (error as Error).message}${code === 'ENOENT' ? ' (does the backup folder exist?)' : ''}`,
    { cause: error },
  );
}

/** "full-backup.mts --date 20261126": the script and its arguments (argv never holds secrets). */
export function describeCommand(argv: readonly string[]): string {
  const script = argv.findIndex((arg, i) => i >= 1 && /\.m?ts$/.test(arg));
  const at = script >= 1 ? script : 1;
  const text = [basename(argv[at] ?? 'node'), ...argv.slice(at + 1)].join(' ');
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

function formatDuration(ms: number): string {
  return formatAgo(ms).replace(/ ago$/, '');
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
