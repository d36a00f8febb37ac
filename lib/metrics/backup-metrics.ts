// The metric families arkalia-dr writes, named as monitoring/arkalia-backup.rules.yml expects
// them (the runbook's backup_metrics.py, plus verification and offsite timestamps).

export type MetricKind = 'gauge' | 'counter' | 'histogram';

export interface MetricSpec {
  name: string;
  kind: MetricKind;
  help: string;
  labelNames: readonly string[];
  buckets?: readonly number[];
}

/**
 * Upper bounds of the duration histogram, in seconds: a real-time pass takes well under a
 * second, a full backup with models can take hours. Changing them resets the histogram
 * (the previous series are dropped, with a warning): Prometheus treats that as a counter reset.
 */
export const DURATION_BUCKETS = [
  0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800,
] as const;

export const BACKUP_METRICS = {
  // Only type="full": the rules take max() over every series, so a job that succeeds every
  // minute (realtime) or every day whatever happens (prune) would hide a full backup that
  // stopped. Other jobs' successes show in the duration histogram's _count.
  lastSuccess: {
    name: 'arkalia_backup_last_success_timestamp',
    kind: 'gauge',
    help: 'Time of the last successful full backup, in seconds since the epoch (type="full" only).',
    labelNames: ['type'],
  },
  size: {
    name: 'arkalia_backup_size_bytes',
    kind: 'gauge',
    help: 'Size in bytes of the last successful backup of this type (full: all archives; states, logs, models, infra: one archive; encrypted: the .gpg files; offsite: what the remote vouches for).',
    labelNames: ['type'],
  },
  duration: {
    name: 'arkalia_backup_duration_seconds',
    kind: 'histogram',
    help: 'Duration of successful runs in seconds, accumulated across runs (its _count counts successful runs).',
    labelNames: ['type'],
    buckets: DURATION_BUCKETS,
  },
  failures: {
    name: 'arkalia_backup_failures_total',
    kind: 'counter',
    help: 'Failed runs by type and reason (a stable error code), accumulated across runs.',
    labelNames: ['type', 'reason'],
  },
  // A backup that archived invalid state files as they are still succeeded (it is a usable
  // backup of what is there): the invalid files are their own problem, with their own alert.
  invalidStates: {
    name: 'arkalia_invalid_state_files',
    kind: 'gauge',
    help: 'State files that are not valid TOML, as the last full backup (source="backup") or real-time snapshot pass (source="realtime") found them; archived as they are, never snapshotted.',
    labelNames: ['source'],
  },
  lastVerified: {
    name: 'arkalia_backup_last_verified_timestamp',
    kind: 'gauge',
    help: 'Time backups were last read back and verified against their checksums with none found corrupt, in seconds since the epoch.',
    labelNames: [],
  },
  offsiteLastSync: {
    name: 'arkalia_offsite_last_sync_timestamp',
    kind: 'gauge',
    help: 'Time of the last offsite sync that left every remote file verified, in seconds since the epoch.',
    labelNames: [],
  },
  // Written by `npm run drill` (DrillFailing / DrillOverdue in the rules).
  drillSuccess: {
    name: 'arkalia_drill_last_run_success',
    kind: 'gauge',
    help: 'Whether the last run of this recovery drill completed (1) or not (0).',
    labelNames: ['scenario'],
  },
  drillLastRun: {
    name: 'arkalia_drill_last_run_timestamp',
    kind: 'gauge',
    help: 'Time this recovery drill last ran, in seconds since the epoch.',
    labelNames: ['scenario'],
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricKey = keyof typeof BACKUP_METRICS;

/** Label values we write: short, stable, lower-case codes (never free text); scenario ids have hyphens. */
export const LABEL_VALUE = /^[a-z][a-z0-9_-]{0,63}$/;
