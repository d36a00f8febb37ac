import { ArkError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { currentProcess, processLiveness, type ProcessIdentity } from '../lock/index.ts';
import { preservePrevious } from './preserve-previous.ts';
import { journalPath, readJournal } from './restore-journal.ts';
import { rollBack } from './roll-back.ts';

export interface Settled {
  outcome: 'rolled-back' | 'completed';
  journal: string;
  files: number;
  /** Containers the interrupted restore had stopped (after a rollback, nobody has started them again). */
  stoppedServices: string[];
  preservedAt: string | null;
}

/**
 * Run first by every restore of a root: if an earlier restore was killed while swapping (its
 * journal is still there and its process is gone), roll the swap back so that the live tree
 * is exactly as before it — or, if it had committed, finish preserving the previous files.
 * Only then does anything else happen. Null when there was nothing to settle.
 */
export async function settleInterrupted(
  root: string,
  sink: EventSink,
  self: ProcessIdentity = currentProcess(),
): Promise<Settled | null> {
  const journal = await readJournal(root);
  if (journal === null) return null;
  const path = journalPath(root);
  const liveness = processLiveness(journal.owner, self);
  if (liveness.state !== 'dead') {
    throw new ArkError(
      'RESTORE_IN_PROGRESS',
      `${path}: a restore of ${root} started ${journal.started_at} by pid ${journal.owner.pid} on ${journal.owner.host} is ${liveness.state === 'alive' ? 'still running' : `perhaps still running (${liveness.reason})`}. Wait for it; nothing was changed.`,
    );
  }
  const files = journal.entries.length;
  if (journal.state === 'swapping') {
    const problems = await rollBack(journal);
    if (problems.length > 0) {
      throw new ArkError(
        'RESTORE_ROLLBACK_FAILED',
        `an interrupted restore (${path}) could not be rolled back entirely:\n  ${problems.join('\n  ')}\nThe journal is kept; fix the cause and run again with --resume.`,
        {
          details: { journal: path, rollbackFailed: problems },
        },
      );
    }
    const message = `an interrupted restore (pid ${journal.owner.pid}, ${journal.started_at}) was rolled back: ${files} file(s) put back exactly as they were before it`;
    sink({ kind: 'restore-settled', journal: path, outcome: 'rolled-back', files, message });
    return {
      outcome: 'rolled-back',
      journal: path,
      files,
      stoppedServices: journal.stopped_services,
      preservedAt: null,
    };
  }
  const preserved = await preservePrevious(journal);
  const where = preserved.preservedAt ?? preserved.keptAt;
  const message = `an interrupted restore (pid ${journal.owner.pid}, ${journal.started_at}) had committed: its ${files} file change(s) stand${where ? `; previous files preserved in ${where}` : ''}`;
  sink({ kind: 'restore-settled', journal: path, outcome: 'completed', files, message });
  return { outcome: 'completed', journal: path, files, stoppedServices: journal.stopped_services, preservedAt: where };
}
