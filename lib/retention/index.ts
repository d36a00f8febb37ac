// retention: which daily backups to keep (a pure plan: dates, verification results, today and
// the policy in; keep/delete with reasons out), and the edges a prune needs: verifying a
// backup, crash-safe deletion through a hidden trash folder (what is a backup: lib/layout).
// Failures handled: a backup that does not verify (never counts as the good one), an
// interrupted delete (finished by the next run), anything not named like a backup (untouched).
export { planRetention, describeReason, RETENTION_RULES } from './plan-retention.ts';
export type {
  RetentionCandidate,
  RetentionDecision,
  RetentionInput,
  RetentionPlan,
  RetentionReason,
  RetentionSettings,
  VerificationNeeded,
  VerifyStatus,
  GfsPeriod,
} from './plan-retention.ts';
export { ageInDays, isoWeekKey, monthKey, dayKey } from './backup-calendar.ts';
export { verifyBackup, type BackupVerification } from './verify-backup.ts';
export { moveToTrash, emptyTrash } from './trash.ts';
