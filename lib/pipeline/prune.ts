import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  ArkError,
  describeDiskFailure,
  diskFailureOf,
  IoError,
  nameDiskFailure,
  NotFoundError,
  toArkError,
} from '../errors.ts';
import type { EventSink } from '../events.ts';
import { withBackupLock, type BackupLock } from '../lock/index.ts';
import {
  describeReason,
  emptyTrash,
  moveToTrash,
  planRetention,
  verifyBackup,
  type BackupVerification,
  type RetentionCandidate,
  type RetentionSettings,
  type VerifyStatus,
} from '../retention/index.ts';
import { listDailyBackups, localDateStamp, measurePointSpace, pointStamp } from '../layout/index.ts';

export interface PruneOptions {
  backupDir: string;
  /** The policy's [retention] table. */
  retention: RetentionSettings;
  sink: EventSink;
  /** Verify what the plan needs and print it; change nothing (and take no lock). */
  dryRun?: boolean;
  now?: () => Date;
  /** Dates never deleted by this run: full-backup passes the backup it just wrote. */
  protect?: readonly string[];
  /**
   * Dates known to verify without hashing them again: full-backup passes the backup it just
   * wrote, whose every archive it hashed while writing it (re-reading it now would mostly read
   * the page cache and prove nothing more, at the cost of reading every archive twice).
   */
  knownGood?: readonly string[];
  /** The backup folder's lock when the caller already holds it (full-backup); otherwise runPrune takes it. */
  lock?: BackupLock;
  lockTimeoutMs?: number;
  /** Recorded in the lock file (default: this process's script and arguments). */
  command?: string;
  verify?: (dir: string, date: string) => Promise<BackupVerification>;
  /** Removes a trash folder (default: rm -r); tests make it fail halfway, as a crash would. */
  removeTree?: (path: string) => Promise<void>;
}

export interface PrunedBackup {
  date: string;
  dir: string;
  action: 'keep' | 'delete';
  ageDays: number;
  /** verified / corrupt: checked now (or known good); unchecked: its result could not change the plan. */
  status: VerifyStatus;
  problem: string | null;
  reasons: string[];
}

export interface PruneReport {
  backupDir: string;
  /** YYYYMMDD the ages were counted from. */
  today: string;
  dryRun: boolean;
  /** Newest first. */
  backups: PrunedBackup[];
  /** Dates deleted (on a dry run: that would be). */
  deleted: string[];
  /** The backup protected as the newest that verifies; null when none does (then nothing is deleted). */
  newestVerified: string | null;
  /** Backups found not to verify (kept or deleted): an integrity problem an operator must hear of. */
  corrupt: { date: string; problem: string }[];
  /** How many backups were hashed to decide. */
  hashed: number;
  /** Unfinished deletes of an earlier run, now finished (on a dry run: that would be). */
  trashRemoved: string[];
  /** Entries named like a backup that are not real folders: left alone. */
  ignored: { name: string; reason: string }[];
  lockWaitedMs: number;
  /**
   * Space by inode, as `du` counts it (points share unchanged archives as hard links): what
   * the deleted points freed (only files no kept point links), and what the kept ones hold.
   */
  space: { freedBytes: number; keptBytes: number; keptApparentBytes: number };
}

/**
 * Apply the retention policy to <backup-dir>/daily (rules: lib/retention RETENTION_RULES). Takes
 * the backup folder's lock unless the caller holds it (or on a dry run, which changes nothing).
 * Idempotent: a second run deletes nothing more; an interrupted run is finished by the next.
 */
export async function runPrune(options: PruneOptions): Promise<PruneReport> {
  await assertBackupDir(options.backupDir);
  if (options.dryRun) return prune(options, null);
  if (options.lock) {
    if (resolve(options.lock.backupDir) !== resolve(options.backupDir))
      throw new ArkError('LOCK_MISMATCH', `the lock held is for ${options.lock.backupDir}, not ${options.backupDir}`);
    return prune(options, options.lock);
  }
  return withBackupLock(
    // The lock measures its wait on the real clock; `now` is the calendar date ages count from.
    {
      backupDir: options.backupDir,
      sink: options.sink,
      ...(options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs }),
      ...(options.command ? { command: options.command } : {}),
    },
    (lock) =>
      prune(options, lock).catch((error: unknown) => {
        throw nameDiskFailure(error, 'No backup was deleted by this run.');
      }),
  );
}

async function prune(options: PruneOptions, lock: BackupLock | null): Promise<PruneReport> {
  const { sink } = options;
  const dryRun = lock === null;
  const clock = (options.now ?? (() => new Date()))();
  const today = localDateStamp(clock);
  const now = pointStamp(today, clock);
  const verify = options.verify ?? verifyBackup;
  const removeTree = options.removeTree ?? emptyTrash;

  // 1. Finish the deletes an interrupted run left behind (hidden trash folders).
  const listing = await listDailyBackups(options.backupDir);
  for (const path of listing.trash) {
    if (dryRun) {
      sink({ kind: 'dry-run', message: `would finish removing ${path}, left by an interrupted prune` });
      continue;
    }
    await removeTree(path);
    sink({ kind: 'trash-removed', path });
  }
  for (const { name, reason } of listing.ignored)
    sink({
      kind: 'warning',
      code: 'NOT_A_BACKUP',
      message: `${name} in ${listing.daily} is ${reason}: left alone`,
      path: name,
    });

  // 2. Plan, hashing only the backups whose result decides something (newest first).
  const byDate = new Map(listing.backups.map((b) => [b.date, b]));
  const status = new Map<string, VerifyStatus>(
    listing.backups.map((b) => [b.date, options.knownGood?.includes(b.date) ? 'verified' : 'unchecked']),
  );
  const problems = new Map<string, string>();
  let hashed = 0;
  const candidates = (): RetentionCandidate[] => [...status].map(([date, s]) => ({ date, status: s }));
  let plan = planRetention({
    backups: candidates(),
    today,
    now,
    retention: options.retention,
    protect: options.protect ?? [],
  });
  while (plan.kind === 'verify') {
    for (const date of plan.dates) {
      const { dir } = byDate.get(date)!;
      const result = await verify(dir, date);
      hashed += 1;
      status.set(date, result.ok ? 'verified' : 'corrupt');
      if (!result.ok) problems.set(date, result.problem);
      sink({ kind: 'backup-verification', date, dir, ok: result.ok, problem: result.ok ? null : result.problem });
    }
    plan = planRetention({
      backups: candidates(),
      today,
      now,
      retention: options.retention,
      protect: options.protect ?? [],
    });
  }
  const backups = plan.decisions.map((d): PrunedBackup => {
    const reasons = d.reasons.map(describeReason);
    const dir = byDate.get(d.date)!.dir;
    sink({ kind: 'retention-decision', date: d.date, dir, action: d.action, status: d.status, reasons });
    return {
      date: d.date,
      dir,
      action: d.action,
      ageDays: d.ageDays,
      status: d.status,
      problem: problems.get(d.date) ?? null,
      reasons,
    };
  });
  if (plan.newestVerified === null && backups.length > 0) {
    sink({
      kind: 'warning',
      code: 'NO_VERIFIED_BACKUP',
      message: `no backup in ${listing.daily} verifies: nothing is deleted. Check the backups named above and the disk they are on.`,
    });
  }

  // 3. Delete what expired, oldest first: hide it (one atomic rename), then remove it.
  const expired = backups.filter((b) => b.action === 'delete').reverse();
  const space = await measurePointSpace(
    backups.filter((b) => b.action === 'keep').map((b) => b.dir),
    expired.map((b) => b.dir),
  );
  const deleted: string[] = [];
  for (const b of expired) {
    if (lock === null) {
      sink({ kind: 'dry-run', message: `would delete ${b.dir}` });
      deleted.push(b.date);
      continue;
    }
    await lock.assertHeld(); // stop if someone removed our lock by hand: another run may be in here
    try {
      await removeTree(await moveToTrash(listing.daily, byDate.get(b.date)!.name, b.date));
    } catch (error) {
      throw new ArkError(
        'PRUNE_DELETE_FAILED',
        `cannot delete ${b.dir}: ${describeFailure(error)}. Deleted before it: ${deleted.join(', ') || 'none'}. If it was already hidden as .arkalia_${b.date}.trash-*, the next prune finishes removing it.`,
        {
          cause: error,
          details: { deleted },
        },
      );
    }
    deleted.push(b.date);
    sink({ kind: 'backup-deleted', date: b.date, dir: b.dir });
  }

  return {
    backupDir: options.backupDir,
    today,
    dryRun,
    backups,
    deleted: deleted.reverse(),
    newestVerified: plan.newestVerified,
    corrupt: [...problems].map(([date, problem]) => ({ date, problem })).sort((a, b) => b.date.localeCompare(a.date)),
    hashed,
    trashRemoved: listing.trash,
    ignored: listing.ignored,
    lockWaitedMs: lock?.waitedMs ?? 0,
    space: {
      freedBytes: space.freedBytes,
      keptBytes: space.kept.uniqueBytes,
      keptApparentBytes: space.kept.apparentBytes,
    },
  };
}

function describeFailure(error: unknown): string {
  const errno = diskFailureOf(error);
  return errno ? describeDiskFailure(errno) : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
}

async function assertBackupDir(backupDir: string): Promise<void> {
  const info = await stat(backupDir).catch((error: unknown) => {
    const errno = diskFailureOf(error);
    if (errno) throw new IoError(errno, 'Nothing was changed.', { doing: `looking at the backup folder ${backupDir}` });
    return null;
  });
  if (!info?.isDirectory())
    throw new NotFoundError(
      'NO_BACKUP_DIR',
      `backup folder ${backupDir} does not exist or is not a folder (check --backup-dir / ARK_BACKUP_DIR)`,
    );
}

export type PruneOutcome = { ok: true; report: PruneReport } | { ok: false; error: ArkError };

/**
 * The prune full-backup runs under its own lock once `date` is published: that backup is
 * protected and known good (hashed while written). A failure is returned, not thrown: the
 * backup itself succeeded and stays.
 */
export async function pruneAfterBackup(options: {
  lock: BackupLock;
  backupDir: string;
  date: string;
  retention: RetentionSettings;
  sink: EventSink;
  now?: () => Date;
}): Promise<PruneOutcome> {
  options.sink({ kind: 'step', step: 'prune', message: `applying the retention policy to ${options.backupDir}/daily` });
  try {
    const report = await runPrune({ ...options, protect: [options.date], knownGood: [options.date] });
    return { ok: true, report };
  } catch (error) {
    const failure = toArkError(error);
    options.sink({
      kind: 'warning',
      code: failure.code,
      message: `pruning after the backup failed (the backup is complete): ${failure.message}`,
    });
    return { ok: false, error: failure };
  }
}
