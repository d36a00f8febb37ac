import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ArkError, failureText, isArkError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { currentProcess, processLiveness, type ProcessIdentity } from '../lock/index.ts';
import { preservePrevious } from './preserve-previous.ts';
import { fsyncDir } from '../state/index.ts';
import { JOURNAL_NAME, journalPath, readJournal, type RestoreJournal } from './restore-journal.ts';
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
  const journal = await readJournalOrDiscard(root, sink);
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

/**
 * The journal, or null. One that cannot be read is removed when nothing of its swap exists:
 * every swap keeps its staged and previous files in a workspace (or in sidecars beside the
 * live files) until it is settled, and removes them only once the live tree is whole again
 * (rolled back or committed), so without any of them no live file can be half swapped. (A
 * journal is written complete or not at all since it is linked from an fsynced temp file;
 * older versions could leave a torn one when the disk filled.) Otherwise it is kept, and the
 * error names what remains.
 */
async function readJournalOrDiscard(root: string, sink: EventSink): Promise<RestoreJournal | null> {
  try {
    return await readJournal(root);
  } catch (error) {
    if (!isArkError(error) || error.code !== 'RESTORE_JOURNAL_INVALID') throw error;
    const traces = await swapTraces(root).catch((listing: unknown) => {
      // Unable to look for them is not "none": the journal stays, and the error says why.
      throw new ArkError(
        'RESTORE_JOURNAL_INVALID',
        `${error.message}\nWhether its swap left files cannot be told (${failureText(listing)}), so the journal was kept: once that folder can be read, run the same command again.`,
        { cause: error, details: { journal: journalPath(root) } },
      );
    });
    if (traces.length > 0)
      throw new ArkError(
        'RESTORE_JOURNAL_INVALID',
        `${error.message}\nWhat its swap left is still there: ${traces.join(', ')}. The previous live files are in the "previous" folder of a workspace, or in the .old sidecars; put back what the restore changed, then remove these and the journal.`,
        { cause: error, details: { journal: journalPath(root), traces } },
      );
    await rm(journalPath(root), { force: true });
    await fsyncDir(root);
    sink({
      kind: 'warning',
      code: 'RESTORE_JOURNAL_DISCARDED',
      message: `${journalPath(root)} could not be read, and nothing of its swap exists (no workspace, no sidecar): the interrupted restore never changed a live file. The journal was removed.`,
    });
    return null;
  }
}

/** Workspaces of restores of `root` (beside it or inside it) and swap sidecars anywhere below it. */
async function swapTraces(root: string): Promise<string[]> {
  const traces: string[] = [];
  const besidePrefix = `.ark-restore-${basename(root)}-`;
  for (const name of await readdir(dirname(root)))
    if (name.startsWith(besidePrefix)) traces.push(join(dirname(root), name));
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.name.startsWith('.ark-restore-') || entry.name === JOURNAL_NAME) continue;
    traces.push(join(entry.parentPath, entry.name));
  }
  return traces.sort();
}
