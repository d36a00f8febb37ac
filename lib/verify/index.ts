// verify: the runbook's "Checklist Maintenance Backup" (daily / weekly / monthly), one check
// per file; lib/pipeline/verify.ts runs them in order. Each check returns an outcome and never
// throws for what it checks: a check that cannot run is a failed check naming why. Handled:
// no backup, a stale one, sizes out of line (a warning), checksums that fail (integrity), an
// offsite without SHA256SUMS, a test restore or prune plan that fails, too little free space,
// a key due for rotation, an offsite copy that does not decrypt to its recorded sha256,
// missing, stale or tampered drill evidence.
export {
  checklistExitCode,
  DRILL_COMMAND,
  EVIDENCE_MAX_DAYS,
  KEY_ROTATION_DAYS,
  quiet,
  SIZE_CHANGE_LIMIT,
  SIZE_HISTORY,
  type CheckResult,
  type CheckStatus,
  type ChecklistOptions,
  type Outcome,
  type VerifyMode,
} from './check-result.ts';
export { backupSize, type BackupSize } from './backup-size.ts';
export { checkSchedule } from './check-schedule.ts';
export { checkFrequencies, frequencyLimitMs } from './check-frequencies.ts';
export { checkMedia } from './check-media.ts';
export { checkSizes } from './check-sizes.ts';
export { checkChecksums, type ChecksumFailure } from './check-checksums.ts';
export { CHECKS_DIR, readVerifications, recordVerification, type VerificationRecord } from './verification-record.ts';
export { checkOffsite } from './check-offsite.ts';
export { checkTestRestore, type TestRestoreReport } from './check-test-restore.ts';
export { checkPrunePlan, type PrunePlanReport } from './check-prune-plan.ts';
export { checkCapacity } from './check-capacity.ts';
export { checkKeyRotation } from './check-key-rotation.ts';
export { checkOffsiteDecrypt } from './check-offsite-decrypt.ts';
export { checkEvidence } from './check-evidence.ts';
