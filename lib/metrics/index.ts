// metrics: what the backup-side scripts record for Prometheus, merged into one node_exporter
// textfile (--metrics-file / ARK_METRICS_FILE) shared by every script and run. Families and
// labels: backup-metrics.ts (names as monitoring/arkalia-backup.rules.yml expects them); what
// each job's outcome records: job-metrics.ts. Failures handled: concurrent writers (exclusive
// lock beside the file, stale locks of dead writers broken), crashes mid-write (atomic writes,
// state before textfile), an unreadable state (set aside, counting restarts), changed
// histogram buckets (reset with a warning). Writing is best effort for callers: a failure is
// METRICS_WRITE_FAILED, which scripts report as a warning without changing their exit code.
export { BACKUP_METRICS, DURATION_BUCKETS, type MetricKey, type MetricSpec } from './backup-metrics.ts';
export { MetricsUpdate, type MetricChange } from './metrics-update.ts';
export { familiesOf, mergeFamilies, renderFamilies } from './metric-families.ts';
export { readMetricsState, type MetricFamily } from './metrics-state.ts';
export {
  updateMetricsFile,
  metricsStatePath,
  METRICS_LOCK_TIMEOUT_MS,
  type UpdateMetricsOptions,
  type UpdateMetricsResult,
} from './update-metrics-file.ts';
export {
  encryptedBackupMetrics,
  failureMetrics,
  failureReason,
  fullBackupMetrics,
  pruneMetrics,
  realtimeEventMetrics,
  realtimeMetrics,
  reasonOf,
  remoteSyncMetrics,
  type JobType,
  type RunFacts,
} from './job-metrics.ts';
