// bench: `npm run bench` — a seeded Arkalia-shaped corpus (its infra from the sample root), the
// runbook's own commands and ours timed side by side in interleaved rounds, and the summary
// (medians, per-round ratios, peak RSS). Failures handled: a command that fails or writes what
// GNU tools cannot read is reported as such, never timed as a success.
export { CORPUS_SHARES, generateCorpus, type Corpus, type CorpusOptions } from './generate-corpus.ts';
export { type CommandSpec, GNU_TIME, measureCommand } from './measure-command.ts';
export {
  BENCH_DATE,
  type BenchPaths,
  nativeTypeScript,
  oursBackup,
  oursScript,
  resticBackup,
  resticEnv,
  resticRestore,
  type RunMode,
  runbookBackup,
  runbookEncrypt,
  runbookRecover,
  runbookRestore,
} from './scenarios.ts';
export { type PointsSpace, type RecordRun, runPointsPhase } from './points-phase.ts';
export { biggestModule, runbookModule, runModulePhase } from './module-phase.ts';
export { FREED_INODE_WINDOW_MS, freeBytes, settleDeletions } from './quiet-disk.ts';
export { formatTable, parseSize, type ScenarioResult, summarize } from './summarize.ts';
export { type TargetFacts, targetLines } from './targets.ts';
export type { FromBackupPhase } from './from-backup-phase.ts';
export { runRecoverPhase } from './recover-phase.ts';
export { type BenchTools, checkGnuReadable, dailyOf, detectTools, mib, toolVersion } from './bench-files.ts';
export { type BenchPolicies, prepareCorpus, writeBenchPolicies } from './bench-setup.ts';
export { createRecorder } from './recorder.ts';
export { makeResticRepository, runBackupPhase } from './backup-phase.ts';
export { type BenchKey, makeBenchKey, runEncryptPhase, stopAgent } from './encrypt-phase.ts';
export { runRestorePhase, verifyAndExtract } from './restore-phase.ts';
