import type { ComposeProject } from '../compose/index.ts';
import type { ArkEvent, EventSink } from '../events.ts';
import { listDailyBackups, type DailyBackup } from '../layout/index.ts';
import type { Policy } from '../policy/index.ts';

export type VerifyMode = 'daily' | 'weekly' | 'monthly';
/** ok; warning (exit unchanged); failed (exit 1); integrity (exit 3); skipped (not asked for / not applicable). */
export type CheckStatus = 'ok' | 'warning' | 'failed' | 'integrity' | 'skipped';

export interface CheckResult {
  mode: VerifyMode;
  check: string;
  status: CheckStatus;
  detail: string;
  data?: Record<string, unknown>;
}

/** What one check returns; the pipeline adds its mode and name. */
export type Outcome = Omit<CheckResult, 'mode' | 'check'>;

export interface ChecklistOptions {
  root: string;
  backupDir: string;
  policy: Policy;
  sink: EventSink;
  now?: () => Date;
  env?: NodeJS.ProcessEnv;
  /** Offsite target text (folder, user@host:/path, s3://bucket/prefix). */
  offsite?: string;
  /** Monthly: the backup keyring (key rotation due?). */
  keyring?: string;
  /** Monthly: a private key file able to decrypt the offsite copies, and its passphrases. */
  key?: string;
  passphrases?: readonly string[];
  /** Monthly: the folder holding evidence/<run-id>/ (npm run drill writes reports/). */
  reportsDir?: string;
  /** Weekly --boot: the test restore is booted as its own Compose project from this compose file. */
  boot?: { compose: ComposeProject; timeoutMs: number };
  /** Capacity check: free bytes of the backup file system (default: statfs). */
  freeBytes?: (dir: string) => Promise<number>;
}

export const SIZE_CHANGE_LIMIT = 0.5;
export const SIZE_HISTORY = 7;
export const KEY_ROTATION_DAYS = 30;
export const EVIDENCE_MAX_DAYS = 31;
export const DRILL_COMMAND = 'npm run drill';

/** Exit code for a set of results: 3 if any integrity problem, else 1 if any failed, else 0. */
export function checklistExitCode(results: readonly CheckResult[]): 0 | 1 | 3 {
  if (results.some((r) => r.status === 'integrity')) return 3;
  if (results.some((r) => r.status === 'failed')) return 1;
  return 0;
}

export const nowOf = (o: Pick<ChecklistOptions, 'now'>): Date => (o.now ?? (() => new Date()))();

/** The daily backups, newest first (lib/layout's lister). */
export async function dailyBackups(options: Pick<ChecklistOptions, 'backupDir'>): Promise<DailyBackup[]> {
  return (await listDailyBackups(options.backupDir)).backups;
}

/** Only what an operator needs to see of a sub-pipeline's events (not every restored file). */
export function quiet(sink: EventSink): EventSink {
  const keep: ReadonlySet<ArkEvent['kind']> = new Set(['warning', 'backup-rejected', 'backup-selected']);
  return (event) => {
    if (keep.has(event.kind)) sink(event);
  };
}
