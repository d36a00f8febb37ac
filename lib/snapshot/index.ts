// snapshot: real-time snapshots of the live state files (the runbook's ark_realtime_snapshot.sh).
// Each file is read once, validated, deduplicated against its newest snapshot by sha256, and
// published as <backup-dir>/realtime/<live path>.<YYYYMMDD_HHMMSS>[_NNN] via temp + fsync +
// link (never a torn, invalid or replaced snapshot). Watch mode debounces fs events per file.
// Failures handled: invalid TOML (reported, never snapshotted), a writer renaming over the file
// mid-read, disk full (temp removed, nothing published), name collisions within one second,
// lost fs events (periodic re-scan), folders appearing or vanishing, runbook-layout snapshots.
export { takeSnapshot, type TakeSnapshotOptions, type SnapshotOutcome } from './take-snapshot.ts';
export { SnapshotCatalog, type NewestSnapshot } from './snapshot-catalog.ts';
export {
  compileStatePatterns,
  describeSkippedLink,
  matchesStatePath,
  scanStatePatterns,
  type StatePatterns,
  type StateScan,
} from './state-patterns.ts';
export {
  REALTIME_DIR_NAME,
  realtimeDir,
  snapshotDirFor,
  snapshotRelPath,
  ownerOfSeries,
  type SeriesOwner,
} from './realtime-layout.ts';
export {
  formatStamp,
  parseStamp,
  parseSnapshotName,
  snapshotFileName,
  compareSnapshotNames,
  MAX_SEQ,
  type SnapshotName,
} from './snapshot-name.ts';
export { listSnapshotTree, readSnapshotDir, type SnapshotRef, type SnapshotTree } from './list-snapshots.ts';
export { planPrune, type PrunePlan } from './plan-prune.ts';
export { pruneSnapshots, type PruneOptions, type PruneResult } from './prune-snapshots.ts';
export {
  findLatestSnapshots,
  type LatestSnapshot,
  type LatestSnapshots,
  type FindLatestSnapshotsOptions,
} from './find-latest-snapshots.ts';
export { KeyedDebouncer, realTimers, type Timers } from './debouncer.ts';
export { INVALID_RECORD_FILE, readInvalidRecord, writeInvalidRecord } from './invalid-record.ts';
export {
  watchStateFiles,
  fsWatchDir,
  type WatchDir,
  type StateWatcher,
  type WatchStateFilesOptions,
} from './watch-state-files.ts';
