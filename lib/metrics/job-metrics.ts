import { isArkError, toArkError } from '../errors.ts';
import type { ArkEvent } from '../events.ts';
import type { FullBackupReport } from '../pipeline/backup.ts';
import type { EncryptBackupReport } from '../pipeline/encrypted-backup.ts';
import type { PruneReport } from '../pipeline/prune.ts';
import type { RealtimeSnapshotReport } from '../pipeline/realtime-snapshot.ts';
import type { RemoteSyncReport } from '../pipeline/remote-sync.ts';
import { MetricsUpdate } from './metrics-update.ts';

// What each job's outcome means for the metrics. A run succeeds (duration observed, sizes and
// timestamps set) or fails (failures_total{type,reason} + 1, nothing else touched): a failed
// run never refreshes a "last success" or a size. Dry runs record nothing (the scripts skip them).

/** The `type` label: one per job, plus one per archive of the full backup (states, logs, models, infra). */
export type JobType = 'full' | 'realtime' | 'encrypted' | 'offsite' | 'prune';

export interface RunFacts {
  /** When the run finished. */
  at: Date;
  durationSeconds: number;
}

/** A stable, short reason label for any thrown value: the ArkError code ("lock_held"), a system error's errno code ("enospc"), else "unexpected". */
export function failureReason(error: unknown): string {
  const errno = (error as NodeJS.ErrnoException | null)?.code;
  if (!isArkError(error) && typeof errno === 'string' && /^E[A-Z0-9]+$/.test(errno)) return reasonOf(errno);
  return reasonOf(toArkError(error).code);
}

/** An error code ("ENOSPC", "OFFSITE_VERIFY_MISMATCH") as a reason label. */
export function reasonOf(code: string): string {
  const reason = code
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^[^a-z]+/, '')
    .slice(0, 64);
  return reason === '' ? 'unexpected' : reason;
}

export function failureMetrics(type: JobType, reason: string): MetricsUpdate {
  return new MetricsUpdate().inc('failures', { type, reason });
}

/**
 * A published backup: last success, duration, total size (type="full") and each archive's
 * size (type=<archive>, e.g. states), and how many state files it found invalid (archived as
 * they are; exit 3), 0 when none: a backup of invalid data is still a backup, and the invalid
 * files have their own gauge and alert (ArkaliaInvalidStateFiles). The prune that follows it
 * counts under type="prune" (see pruneMetrics), without a duration of its own.
 */
export function fullBackupMetrics(
  report: Pick<FullBackupReport, 'manifest' | 'invalidStates' | 'prune'>,
  facts: RunFacts,
): MetricsUpdate {
  const update = new MetricsUpdate();
  if (report.manifest) {
    const archives = report.manifest.archives ?? [];
    update.set('lastSuccess', { type: 'full' }, seconds(facts.at));
    update.set('invalidStates', { source: 'backup' }, report.invalidStates.length);
    update.observe('duration', { type: 'full' }, facts.durationSeconds);
    update.set(
      'size',
      { type: 'full' },
      archives.reduce((sum, a) => sum + a.size_bytes, 0),
    );
    for (const archive of archives) update.set('size', { type: archive.name }, archive.size_bytes);
  }
  if (report.prune?.ok === false) update.merge(failureMetrics('prune', failureReason(report.prune.error)));
  else if (report.prune?.ok) update.merge(verificationMetrics(report.prune.report, facts));
  return update;
}

/** prune.mts: duration on success; backups read back and verified → last verified; a corrupt one → failure backup_corrupt. */
export function pruneMetrics(report: Pick<PruneReport, 'corrupt' | 'hashed'>, facts: RunFacts): MetricsUpdate {
  const update = verificationMetrics(report, facts);
  if (report.corrupt.length === 0) update.observe('duration', { type: 'prune' }, facts.durationSeconds);
  return update;
}

function verificationMetrics(report: Pick<PruneReport, 'corrupt' | 'hashed'>, facts: RunFacts): MetricsUpdate {
  if (report.corrupt.length > 0) return failureMetrics('prune', 'backup_corrupt');
  // hashed = 0: nothing was read back (no backups, or only the one full-backup just hashed).
  return report.hashed > 0 ? new MetricsUpdate().set('lastVerified', {}, seconds(facts.at)) : new MetricsUpdate();
}

/**
 * One real-time pass: success when every valid file was snapshotted or unchanged. A snapshot
 * that could not be written fails it with that snapshot's code (e.g. enospc). Invalid state
 * files (never snapshotted) are counted by the invalid-state gauge, not as a failure of the
 * pass. No size: bytes written per pass (often 0) is not a backup size.
 */
export function realtimeMetrics(
  report: Pick<RealtimeSnapshotReport, 'failed' | 'invalid'>,
  facts: RunFacts,
): MetricsUpdate {
  const update = new MetricsUpdate().set('invalidStates', { source: 'realtime' }, report.invalid.length);
  if (report.failed.length > 0) return update.merge(failureMetrics('realtime', reasonOf(report.failed[0]!.code)));
  return update.observe('duration', { type: 'realtime' }, facts.durationSeconds);
}

/**
 * --watch has no runs: each snapshot that failed counts as a failure; `invalidNow` is how many
 * state files are invalid as last seen (invalid-state events, less those snapshotted since).
 */
export function realtimeEventMetrics(events: readonly ArkEvent[], invalidNow: number): MetricsUpdate {
  const update = new MetricsUpdate().set('invalidStates', { source: 'realtime' }, invalidNow);
  for (const event of events)
    if (event.kind === 'snapshot-failed') update.merge(failureMetrics('realtime', reasonOf(event.code)));
  return update;
}

/** encrypted-backup.mts: it verified the archives against their checksums before encrypting (last verified). */
export function encryptedBackupMetrics(report: Pick<EncryptBackupReport, 'files'>, facts: RunFacts): MetricsUpdate {
  const update = new MetricsUpdate().observe('duration', { type: 'encrypted' }, facts.durationSeconds);
  if (report.files.length === 0) return update;
  update.set(
    'size',
    { type: 'encrypted' },
    report.files.reduce((sum, f) => sum + (f.bytes ?? 0), 0),
  );
  return update.set('lastVerified', {}, seconds(facts.at));
}

/** remote-sync.mts: a sync that left every remote file verified sets the offsite timestamp; an integrity problem is a failure. */
export function remoteSyncMetrics(
  report: Pick<RemoteSyncReport, 'problems' | 'succeededAt' | 'remote'>,
  facts: RunFacts,
): MetricsUpdate {
  if (report.problems.length > 0) return failureMetrics('offsite', reasonOf(report.problems[0]!.code));
  const update = new MetricsUpdate()
    .observe('duration', { type: 'offsite' }, facts.durationSeconds)
    .set('size', { type: 'offsite' }, report.remote.bytes);
  return report.succeededAt === null
    ? update
    : update.set('offsiteLastSync', {}, seconds(new Date(report.succeededAt)));
}

function seconds(at: Date): number {
  return at.getTime() / 1000;
}
