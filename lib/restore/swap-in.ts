import { linkSync, renameSync, unlinkSync } from 'node:fs';
import { copyFile, link, lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ArkError } from '../errors.ts';
import { fsyncDir, syncFiles, tempSibling } from '../state/index.ts';
import { linkAt, LinkInTreeError, TreeGuard, type LinkFound } from '../tree/index.ts';
import {
  createJournal,
  touchedDirs,
  updateJournal,
  type JournalEntry,
  type RestoreJournal,
} from './restore-journal.ts';
import { rollBack } from './roll-back.ts';

export interface SwapHooks {
  /** Test-only: called once prepared ("swap:0") and after each step ("swap:1", …) so a test can kill the process there. */
  pauseAt?: (point: string) => Promise<void>;
  /** SIGINT/SIGTERM: stop between steps, roll back, then throw RESTORE_INTERRUPTED. */
  signal?: AbortSignal;
}

/**
 * Swap the staged files in, crash-safely:
 *  1. the journal is written and fsynced (exclusively: one swap per root at a time);
 *  2. prepare, changing no live file: make the staged bytes durable (a rename makes the name
 *     durable, not the data), create missing folders, hard-link every live file that will be
 *     replaced or removed into its `previous` place (a copy where links fail), copy staged
 *     files to their sidecars on other filesystems; fsync;
 *  3. one atomic step per file, in path order: rename the staged file over the live one
 *     (replace), link it into place without clobbering (create), unlink (remove); a created
 *     folder whose whole content is staged (`moved_dirs`) in one step: renamed over the empty
 *     folder prepare made for it (it fails if anything was written into that since); never
 *     through a link: the folders above each file are looked at (lstat) before the first
 *     live change and again during the swap, every 64 steps (LinkInTreeError, rolled back,
 *     exit 3);
 *  4. fsync every folder touched, then mark the journal committed (the commit point; if
 *     that write fails, the swap is rolled back like any other step).
 * A failure or an abort before the commit rolls everything back from the journal (the live
 * tree is then exactly as before) and throws; a crash leaves the journal for the next run.
 */
export async function swapIn(journal: RestoreJournal, hooks: SwapHooks = {}): Promise<RestoreJournal> {
  await createJournal(journal);
  let step = 'prepare the swap';
  /** Entries from this index on were never started. */
  let applied = 0;
  let committed: RestoreJournal;
  try {
    const claimed = await prepare(journal);
    await hooks.pauseAt?.('swap:0');
    let guard = new TreeGuard(journal.root);
    const moves = movesByFirstEntry(journal, claimed);
    for (let i = 0; i < journal.entries.length; i += 1) {
      const entry = journal.entries[i]!;
      if (hooks.signal?.aborted) throw interrupted(hooks.signal);
      step = `${entry.action} ${entry.path}`;
      // Planted since the plan? Never write through it. Each folder is looked at again every
      // YIELD_EVERY steps (a few milliseconds), not before every file: 17k lstat chains cost 0.2 s.
      if (i % YIELD_EVERY === 0) guard = new TreeGuard(journal.root);
      const link = guard.linkAbove(entry.path);
      if (link) throw new LinkInTreeError(journal.root, [link]);
      const move = moves.get(i);
      if (move) {
        // The folder's entries (contiguous: path order) are applied at once; a rollback removes each.
        step = `move in ${move.dir}/ (${move.end - i} files)`;
        applied = move.end;
        renameSync(join(journal.workspaces[0]!, 'staged', move.dir), join(journal.root, move.dir));
        for (let k = i + 1; k <= move.end; k += 1) await hooks.pauseAt?.(`swap:${k}`);
        i = move.end - 1;
        guard = new TreeGuard(journal.root);
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      applied = i + 1; // from here the entry may be (partly) applied: a rollback looks at it
      apply(journal, entry);
      await hooks.pauseAt?.(`swap:${i + 1}`);
      // The steps are synchronous calls (a thread-pool round trip each cost more than the
      // rename itself: 17k files); every few steps the event loop runs, so a SIGINT or
      // SIGTERM is seen and the swap rolls back.
      if (i % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
    }
    step = 'sync the restored folders';
    if (hooks.signal?.aborted) throw interrupted(hooks.signal);
    for (const dir of touchedDirs(journal)) await fsyncDir(dir);
    step = 'mark the journal committed';
    committed = { ...journal, state: 'committed' };
    await updateJournal(committed);
  } catch (error) {
    const problems = await rollBack(journal, { applied });
    const reason = error instanceof Error ? error.message : String(error);
    if (problems.length > 0) {
      throw new ArkError(
        'RESTORE_ROLLBACK_FAILED',
        `restore failed (${step}: ${reason}) and the previous files could not all be put back:\n  ${problems.join('\n  ')}\n` +
          `The previous files are kept in ${join(journal.workspaces[0]!, 'previous')} and listed in ${join(journal.root, '.ark-restore-journal.json')}: ` +
          'run the restore again with --resume to retry the rollback, or copy them back by hand.',
        { cause: error, details: { preservedAt: join(journal.workspaces[0]!, 'previous'), rollbackFailed: problems } },
      );
    }
    if (error instanceof ArkError && (error.code === 'RESTORE_INTERRUPTED' || error instanceof LinkInTreeError))
      throw error;
    throw new ArkError(
      'RESTORE_SWAP_FAILED',
      `restore failed (${step}: ${reason}); the live files were put back as they were`,
      { cause: error },
    );
  }
  return committed;
}

/** Returns the moved folders it claimed (made empty), to be renamed in whole. */
async function prepare(journal: RestoreJournal): Promise<ReadonlySet<string>> {
  const staging = join(journal.workspaces[0]!, 'staged');
  await syncFiles(
    staging,
    journal.entries.flatMap((e) => (e.staged === join(staging, e.path) ? [e.staged] : [])),
  );
  const synced = new Set<string>();
  const guard = new TreeGuard(journal.root);
  refuseLinks(
    journal,
    journal.entries.flatMap((e) => guard.linkAbove(e.path) ?? []),
  );
  // A moved folder is made here, empty (claimed), and replaced whole by its staged copy during
  // the swap; the folders inside it come with it. One that appeared meanwhile is used as it
  // is, as any created folder: its files then go in one by one.
  const moved = new Set<string>();
  const insideMoved = (dir: string) => [...moved].some((m) => dir.startsWith(`${m}/`));
  for (const dir of journal.created_dirs) {
    if (insideMoved(dir)) continue;
    const made = await mkdir(join(journal.root, dir)).then(
      () => true,
      (e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? false : Promise.reject(e)),
    );
    if (made && journal.moved_dirs?.includes(dir)) moved.add(dir);
  }
  // A folder that "already existed" may be a link planted since the plan: look at each again.
  refuseLinks(
    journal,
    journal.created_dirs.flatMap((dir) => linkAt(journal.root, dir) ?? []),
  );
  for (const entry of journal.entries) {
    const live = join(journal.root, entry.path);
    if (entry.previous !== null) {
      await mkdir(dirname(entry.previous), { recursive: true });
      await keepPrevious(live, entry.previous);
      synced.add(dirname(entry.previous));
    }
    const workspaceCopy = join(staging, entry.path);
    if (entry.staged !== null && entry.staged !== workspaceCopy) {
      await copyDurably(workspaceCopy, entry.staged);
      synced.add(dirname(entry.staged));
    }
  }
  for (const dir of synced) await fsyncDir(dir);
  for (const dir of journal.created_dirs.filter((d) => !insideMoved(d)))
    await fsyncDir(dirname(join(journal.root, dir)));
  return moved;
}

const YIELD_EVERY = 64;

/** Each moved folder prepare claimed, by the index of its first entry, with the index after its last. */
function movesByFirstEntry(
  journal: RestoreJournal,
  claimed: ReadonlySet<string>,
): Map<number, { dir: string; end: number }> {
  const moves = new Map<number, { dir: string; end: number }>();
  for (const dir of claimed) {
    const prefix = `${dir}/`;
    const first = journal.entries.findIndex((e) => e.path.startsWith(prefix));
    if (first < 0) continue;
    let end = first;
    while (end < journal.entries.length && journal.entries[end]!.path.startsWith(prefix)) end += 1;
    moves.set(first, { dir, end });
  }
  return moves;
}

/** Refuse (before anything live changed, or rolled back by the caller) when links stand above the swap's files. */
function refuseLinks(journal: RestoreJournal, found: readonly LinkFound[]): void {
  if (found.length === 0) return;
  const unique = [...new Map(found.map((l) => [l.path, l])).values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  throw new LinkInTreeError(journal.root, unique);
}

function apply(journal: RestoreJournal, entry: JournalEntry): void {
  const live = join(journal.root, entry.path);
  if (entry.action === 'replace') {
    renameSync(entry.staged!, live);
  } else if (entry.action === 'create') {
    // link(2) fails if something appeared at that path since the plan: never clobber it.
    linkSync(entry.staged!, live);
    unlinkSync(entry.staged!);
  } else {
    unlinkSync(live);
  }
}

/** A hard link (same inode: exact bytes, mode, owner and times come back on rollback), or a durable copy where links are not allowed. */
async function keepPrevious(live: string, previous: string): Promise<void> {
  try {
    await link(live, previous);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EMLINK' && code !== 'EXDEV') throw error;
    if ((await lstat(live)).isSymbolicLink()) throw error;
    await copyDurably(live, previous);
  }
}

/** Copy to a temp name beside the target, fsync, rename: the target exists only once complete. */
export async function copyDurably(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = tempSibling(target);
  try {
    await copyFile(source, tmp);
    const handle = await open(tmp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

function interrupted(signal: AbortSignal): ArkError {
  const why = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
  return new ArkError(
    'RESTORE_INTERRUPTED',
    `restore interrupted during the swap (${why}); the live files were put back as they were`,
  );
}
