import { lstat, readlink, rename, rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '../checksum/index.ts';
import { fsyncDir } from '../state/index.ts';
import { linkAbove } from '../tree/index.ts';
import { removeJournal, touchedDirs, type RestoreJournal } from './restore-journal.ts';

/**
 * Put the live tree back exactly as it was before the swap, from the journal, whatever step
 * the swap reached (it may have been killed anywhere). Every undo step checks what is on
 * disk, so a rollback interrupted in turn can simply be run again (idempotent):
 *  - replace: the previous file, if kept, is renamed back over the live path (a no-op when the
 *    swap never got there: both names are the same inode);
 *  - create: the live file is removed if it is the staged one (same sha256);
 *  - remove: the previous file is renamed back if the live path is empty;
 *  (every previous copy is made before the first live change, so an entry without one was
 *  never touched);
 * never through a link (a folder above a file that became a link since is a problem, named);
 * then the folders it created are removed if empty, and, if nothing failed, the sidecars,
 * the workspace and the journal. Returns what could not be put back ([] = as before).
 */
export async function rollBack(journal: RestoreJournal, options: { applied?: number } = {}): Promise<string[]> {
  const problems: string[] = [];
  // The swap that failed knows how far it got (`applied` entries); after a crash, every entry is looked at.
  const touched = journal.entries.slice(0, options.applied ?? journal.entries.length);
  for (const entry of [...touched].reverse()) {
    const live = join(journal.root, entry.path);
    try {
      const link = linkAbove(journal.root, entry.path);
      if (link)
        throw new Error(
          `not put back: ${link.path} is now a link to ${link.target} (a restore never writes through a link; its previous copy is ${entry.previous ?? 'none'})`,
        );
      if (entry.action === 'create') {
        const info = await lstat(live).catch(() => null);
        if (info?.isFile() && (await sha256File(live)).sha256 === entry.stagedSha256) await unlink(live);
      } else if (await exists(entry.previous!)) {
        if (entry.action === 'replace' || !(await exists(live))) await rename(entry.previous!, live);
        else if (await rewritten(live, entry.previous!, entry.previousSha256))
          throw new Error(
            `not put back: it was written again after the restore began (its previous copy is kept at ${entry.previous})`,
          );
      } else if (await lostPrevious(live, entry.action, entry.stagedSha256)) {
        throw new Error(`its previous copy (${entry.previous}) is missing`);
      }
      // Otherwise no previous copy: prepare never reached this file, so no later step touched it.
    } catch (error) {
      problems.push(`${entry.path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  for (const dir of [...journal.created_dirs].reverse()) {
    await rmdir(join(journal.root, dir)).catch(() => {}); // not empty: something else wrote there; left alone
  }
  for (const dir of touchedDirs(journal)) await fsyncDir(dir).catch(() => {});
  if (problems.length === 0) await discardWork(journal);
  return problems;
}

/** Remove what the restore added beside live files (sidecars), its workspaces, then the journal. */
export async function discardWork(journal: RestoreJournal): Promise<void> {
  const inWorkspace = (path: string) => journal.workspaces.some((w) => path.startsWith(`${w}/`));
  for (const entry of journal.entries) {
    const sidecars = [entry.staged, entry.previous].filter((p): p is string => p !== null && !inWorkspace(p));
    if (sidecars.length === 0) continue; // the usual case: everything went through the workspace
    if (linkAbove(journal.root, entry.path)) continue; // its sidecars stay: never removed through a link
    for (const extra of sidecars) await rm(extra, { force: true });
  }
  for (const workspace of journal.workspaces)
    await rm(workspace, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 });
  await removeJournal(journal.root);
}

/** A replaced file whose new bytes are live, or a removed file that is gone, with no previous copy left: it cannot be put back. */
async function lostPrevious(live: string, action: string, stagedSha256: string | null): Promise<boolean> {
  if (action === 'remove') return !(await exists(live));
  const info = await lstat(live).catch(() => null);
  return info?.isFile() === true && (await sha256File(live)).sha256 === stagedSha256;
}

/**
 * A file the swap was to remove, still there beside its previous copy (the swap never reached
 * it, or something wrote it since): rewritten unless it is that copy's inode or bytes.
 */
async function rewritten(live: string, previous: string, previousSha256: string | null): Promise<boolean> {
  const [a, b] = await Promise.all([lstat(live), lstat(previous)]);
  if (a.dev === b.dev && a.ino === b.ino) return false;
  if (a.isSymbolicLink() && b.isSymbolicLink()) return (await readlink(live)) !== (await readlink(previous));
  return !a.isFile() || (await sha256File(live)).sha256 !== previousSha256;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
