// restore: locate candidate backups -> verify each archive's checksum before reading it ->
// extract the scope into staging (safely, within caps) -> validate TOML -> fall back to the
// newest backup that passes -> lay newer real-time snapshots over it -> plan against the live
// files -> swap in under a write-ahead journal (crash: rolled back by the next run) -> move
// the previous files to <backup-dir>/preserved/. Failures: no backup (exit 1), every backup
// rejected (exit 3, each named), swap failure (rolled back, exit 1), rollback failure (exit 1,
// journal kept for --resume).
export { MODULE_NAME, assertModuleName } from './module-name.ts';
export { findBackups, selectBackup, type BackupRef } from './find-backups.ts';
export { listCandidates } from './list-candidates.ts';
export {
  dailyCandidate,
  archiveCandidate,
  type BackupCandidate,
  type ArchiveCandidateOptions,
  type RecoveryPoint,
} from './backup-candidate.ts';
export {
  moduleStateScope,
  moduleStatePrefix,
  systemScope,
  inScope,
  mirrorDirs,
  matchPrefix,
  type RestoreScope,
  type ScopeArchive,
} from './restore-scope.ts';
export { stageBackup, listFiles, type StagedBackup, type StagedFile, type StageOptions } from './stage-backup.ts';
export { chooseBackup, isBackupDefect, type Rejection } from './choose-backup.ts';
export { overlaySnapshots, type SnapshotUse } from './overlay-snapshots.ts';
export { hashLive } from './hash-live.ts';
export { hashTree } from './hash-tree.ts';
export { planChanges, type FileChange, type ChangeAction } from './plan-changes.ts';
export { createWorkspace, sweepStaleWorkspaces, type Workspace } from './restore-workspace.ts';
export { JOURNAL_NAME, journalPath, readJournal, type RestoreJournal, type JournalEntry } from './restore-journal.ts';
export { planSwap } from './plan-swap.ts';
export { swapIn, type SwapHooks } from './swap-in.ts';
export { rollBack } from './roll-back.ts';
export { preservePrevious, type PreserveOutcome } from './preserve-previous.ts';
export { settleInterrupted, type Settled } from './settle-interrupted.ts';
export { preStartChecks, type CheckResult } from './pre-start-checks.ts';
export { diffTrees, type TreeDiff } from './diff-trees.ts';
