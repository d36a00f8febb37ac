import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { updateJournal, type RestoreJournal } from './restore-journal.ts';
import { discardWork } from './roll-back.ts';
import { copyDurably } from './swap-in.ts';

export interface PreserveOutcome {
  /** The folder under <backup-dir>/preserved/ holding the previous files, or null when the swap replaced nothing. */
  preservedAt: string | null;
  /** Where they stayed instead, when they could not be written there (read-only backup disk...). */
  keptAt: string | null;
  problem: string | null;
}

/**
 * After the commit: move the previous live files (the corrupted state is evidence) to a
 * fresh folder under <backup-dir>/preserved/, at their paths below the scope's base, then
 * remove the workspace and the journal. Idempotent: a run killed here is finished by the
 * next one (files already moved are not there to move again). If the backup folder cannot
 * take them, they are kept beside the workspace, named in the outcome: the restore stands.
 */
export async function preservePrevious(committed: RestoreJournal): Promise<PreserveOutcome> {
  const kept = committed.entries.filter((e) => e.previous !== null);
  let journal = committed;
  if (kept.length === 0) {
    await discardWork(journal);
    return { preservedAt: null, keptAt: null, problem: null };
  }
  try {
    if (journal.preserved_dir === null) {
      journal = { ...journal, preserved_dir: await makeFreshDir(journal.preserve_to) };
      await updateJournal(journal);
    }
    const target = journal.preserved_dir!;
    for (const entry of kept) {
      const to = join(
        target,
        entry.path.startsWith(journal.preserve_base) ? entry.path.slice(journal.preserve_base.length) : entry.path,
      );
      await moveFile(entry.previous!, to);
    }
    await discardWork(journal);
    return { preservedAt: target, keptAt: null, problem: null };
  } catch (error) {
    const workspace = journal.workspaces[0]!;
    const keptAt = join(dirname(workspace), `ark-preserved-${journal.id}`);
    await rename(join(workspace, 'previous'), keptAt).catch(() => {});
    await discardWork(journal);
    return { preservedAt: null, keptAt, problem: (error as Error).message };
  }
}

async function moveFile(from: string, to: string): Promise<void> {
  if (
    !(await lstat(from).then(
      () => true,
      () => false,
    ))
  )
    return; // moved by an earlier, interrupted run
  await mkdir(dirname(to), { recursive: true, mode: 0o700 });
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyDurably(from, to);
    await rm(from);
  }
}

/** A new folder: `wanted`, or `wanted-2`, `-3`… — an earlier preserved copy is never mixed with or overwritten. */
export async function makeFreshDir(wanted: string): Promise<string> {
  await mkdir(dirname(wanted), { recursive: true, mode: 0o700 });
  for (let n = 1; ; n += 1) {
    const candidate = n === 1 ? wanted : `${wanted}-${n}`;
    try {
      await mkdir(candidate, { mode: 0o700 });
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 100) throw error;
    }
  }
}
