import type { RecordRun } from './points-phase.ts';
import type { BenchPaths } from './scenarios.ts';

/** What the bench gives a phase that restores from our backup (recover, module). */
export interface FromBackupPhase {
  paths: BenchPaths;
  /** Our backup folder (the backup phase wrote it). */
  backupDir: string;
  /** The daily folder of that backup (its archives and checksum file). */
  daily: string;
  policy: string;
  /** A folder of this phase's own. */
  dir: string;
  record: RecordRun;
  run: number;
}

/** Our restore's options: into `root`, from the phase's backup and policy, no services, a JSON report. */
export function restoreArgs(root: string, options: FromBackupPhase): string[] {
  return [
    '--root',
    root,
    '--backup-dir',
    options.backupDir,
    '--policy',
    options.policy,
    '--services',
    'none',
    '--json',
  ];
}
