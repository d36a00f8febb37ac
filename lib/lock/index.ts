// lock: one backup or prune at a time per backup folder (<backup-dir>/.arkalia-dr.lock, a JSON
// record of pid, host, boot, start time and command). Failures handled: a live holder (wait,
// bounded, then LOCK_HELD naming it), a holder killed on this host (its stale lock is removed
// by exactly one run, see break-stale-lock.ts), a holder on another host or in a container
// (never removed automatically; the message says how), a lock removed by hand (LOCK_LOST).
export {
  acquireBackupLock,
  withBackupLock,
  lockPath,
  describeCommand,
  LockHeldError,
  LOCK_FILE_NAME,
  type BackupLock,
  type LockOptions,
} from './backup-lock.ts';
export { DEFAULT_LOCK_TIMEOUT_MS, LOCK_TIMEOUT_HELP, parseLockTimeout } from './lock-timeout.ts';
export {
  currentProcess,
  processExists,
  processLiveness,
  systemProbe,
  type Liveness,
  type ProcessIdentity,
  type ProcessProbe,
} from './process-identity.ts';
export {
  readLockFile,
  formatLockRecord,
  parseLockRecord,
  describeHolder,
  type LockRecord,
  type LockFileState,
} from './lock-record.ts';
