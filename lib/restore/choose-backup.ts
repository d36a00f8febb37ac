import { ArkError, EXIT, isArkError, NotFoundError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import type { BackupCandidate } from './backup-candidate.ts';
import type { StagedBackup } from './stage-backup.ts';

export interface Rejection {
  backup: string;
  dir: string | null;
  date: string | null;
  code: string;
  reason: string;
}

/** Failures that are the backup's fault: another backup may do. Anything else (disk full, EACCES) stops the restore. */
const BACKUP_DEFECTS = new Set([
  'STATES_ARCHIVE_MISSING',
  'ARCHIVE_MISSING',
  'MODULE_NOT_IN_BACKUP',
  'NOTHING_IN_BACKUP',
]);

export function isBackupDefect(error: unknown): error is ArkError {
  return isArkError(error) && (error.exitCode === EXIT.integrity || BACKUP_DEFECTS.has(error.code));
}

/**
 * The newest candidate that verifies, extracts within the caps and validates, staged; each
 * one rejected on the way is named with its reason. A backup the operator named (`explicit`)
 * is the only candidate: it is never silently replaced by another, its failure is the error.
 * When every candidate fails: the one error as it is, or NO_VALID_BACKUP listing them all.
 */
export async function chooseBackup(options: {
  candidates: readonly BackupCandidate[];
  explicit: boolean;
  stage: (candidate: BackupCandidate) => Promise<StagedBackup>;
  sink: EventSink;
}): Promise<{ staged: StagedBackup; rejected: Rejection[] }> {
  const { candidates, sink } = options;
  if (candidates.length === 0) throw new NotFoundError('NO_BACKUP', 'no backup to restore from');
  const rejected: Rejection[] = [];
  const errors: ArkError[] = [];
  for (const [i, candidate] of candidates.entries()) {
    const source = options.explicit
      ? 'requested date'
      : i === 0
        ? 'newest'
        : `fallback: the newest that passes verification (${i} newer rejected)`;
    sink({ kind: 'backup-selected', dir: candidate.dir ?? candidate.label, date: candidate.date ?? '', source });
    try {
      return { staged: await options.stage(candidate), rejected };
    } catch (error) {
      if (!isBackupDefect(error) || options.explicit) throw withRejections(error, rejected);
      const rejection = {
        backup: candidate.label,
        dir: candidate.dir,
        date: candidate.date,
        code: error.code,
        reason: error.message,
      };
      rejected.push(rejection);
      errors.push(error);
      sink({ kind: 'backup-rejected', ...rejection });
    }
  }
  if (errors.length === 1) throw withRejections(errors[0], rejected);
  const integrity = errors.some((e) => e.exitCode === EXIT.integrity);
  throw new ArkError(
    'NO_VALID_BACKUP',
    `no backup passes verification; rejected, newest first:\n${rejected.map((r) => `  ${r.backup} (${r.code}): ${r.reason.replace(/\n\s*/g, ' ')}`).join('\n')}\n` +
      'Nothing was changed. Recover a good copy (offsite) or inspect the rejected backups.',
    { exitCode: integrity ? EXIT.integrity : EXIT.failed, details: { rejected } },
  );
}

function withRejections(error: unknown, rejected: Rejection[]): unknown {
  if (isArkError(error) && rejected.length > 0) Object.assign(error.details, { rejected });
  return error;
}
