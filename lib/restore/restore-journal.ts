import { link, open, readFile, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { ArkError } from '../errors.ts';
import { fsyncDir, tempSibling, writeFileAtomic } from '../state/index.ts';

// The write-ahead journal of a swap: written and fsynced before the first live change, it
// lists every file the swap touches, where its staged copy is and where the previous file is
// kept. While it exists the live tree may be half swapped; the next restore of this root (or
// `--resume`) reads it and rolls back ("swapping") or finishes ("committed"). One per root.

export const JOURNAL_FORMAT = 'arkalia-dr/restore-journal/1';
export const JOURNAL_NAME = '.ark-restore-journal.json';
export const journalPath = (root: string): string => join(root, JOURNAL_NAME);

const relPath = z
  .string()
  .min(1)
  .refine((p) => !isAbsolute(p) && !p.split('/').includes('..'), { message: 'must be relative, without ".."' });
const absPath = z
  .string()
  .refine((p) => isAbsolute(p) && !p.split('/').includes('..'), { message: 'must be absolute, without ".."' });

const entrySchema = z.strictObject({
  path: relPath,
  action: z.enum(['replace', 'create', 'remove']),
  /** The staged copy renamed into place (replace, create). */
  staged: absPath.nullable(),
  /** Where the previous live file is kept (replace, remove): a hard link, or a copy. */
  previous: absPath.nullable(),
  stagedSha256: z.string().nullable(),
  previousSha256: z.string().nullable(),
});

export const journalSchema = z.strictObject({
  format: z.literal(JOURNAL_FORMAT),
  id: z.string(),
  /** The process that swaps: a journal whose process still runs is another restore in progress. */
  owner: z.strictObject({
    pid: z.number().int(),
    host: z.string(),
    bootId: z.string().nullable(),
    pidNamespace: z.string().nullable(),
    startTicks: z.string().nullable(),
  }),
  started_at: z.string(),
  state: z.enum(['swapping', 'committed']),
  root: absPath,
  /** Every folder the restore staged in (removed once settled). */
  workspaces: z.array(absPath).min(1),
  /** Folders the swap creates, parents first (removed again by a rollback, if empty). */
  created_dirs: z.array(relPath),
  /**
   * Created folders whose whole content is staged (every file under one a `create` entry):
   * each is renamed into place in one step (made empty by prepare, then replaced), not file
   * by file. Its entries stay listed: a rollback removes them as any created file. Older
   * journals have none.
   */
  moved_dirs: z.array(relPath).optional(),
  entries: z.array(entrySchema),
  /** Where the previous files go once committed (<backup-dir>/preserved/<name>), and the prefix stripped there. */
  preserve_to: absPath,
  preserve_base: z.string(),
  /** The fresh folder actually made for them (`preserve_to`, or `-2`, `-3`…), once committed. */
  preserved_dir: absPath.nullable(),
  /** Containers the restore stopped: what an operator must start again after a rollback. */
  stopped_services: z.array(z.string()),
});

export type RestoreJournal = z.infer<typeof journalSchema>;
export type JournalEntry = z.infer<typeof entrySchema>;

/**
 * Write the journal for the first time: complete or not at all (a temp file, fsynced, then
 * linked to its name: link(2) fails if the name exists, so a second restore of the same root
 * is refused), and its folder fsynced. A failure leaves no journal behind.
 */
export async function createJournal(journal: RestoreJournal): Promise<void> {
  const path = journalPath(journal.root);
  const tmp = tempSibling(path);
  try {
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(journal, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await link(tmp, path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
      throw new ArkError(
        'RESTORE_IN_PROGRESS',
        `${path} exists: another restore of ${journal.root} is swapping files right now. Wait for it to finish (or, if it died, run the restore again with --resume to settle it).`,
      );
    });
  } finally {
    await removeTwice(tmp);
  }
  try {
    await fsyncDir(journal.root);
  } catch (error) {
    await removeTwice(path); // ours, and nothing was swapped yet
    throw error;
  }
}

/** Cleanup that a one-off error must not defeat: tried twice, then left (the caller's error says more). */
async function removeTwice(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => rm(path, { force: true }).catch(() => {}));
}

/** Replace the journal atomically (state change). */
export async function updateJournal(journal: RestoreJournal): Promise<void> {
  await writeFileAtomic(journalPath(journal.root), `${JSON.stringify(journal, null, 2)}\n`, { mode: 0o600 });
}

/** The journal of an unfinished restore of `root`, or null. A journal that does not parse stops everything (exit 1). */
export async function readJournal(root: string): Promise<RestoreJournal | null> {
  const path = journalPath(root);
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (text === null) return null;
  let parsed: ReturnType<typeof journalSchema.safeParse>;
  try {
    parsed = journalSchema.safeParse(JSON.parse(text));
  } catch (error) {
    parsed = { success: false, error } as never;
  }
  if (!parsed.success || parsed.data.root !== root) {
    throw new ArkError(
      'RESTORE_JOURNAL_INVALID',
      `${path} is left by an interrupted restore but cannot be read${parsed.success ? ` (it is for ${parsed.data.root})` : ''}: nothing was changed. Inspect it: it names every file the interrupted swap touched and where the previous copies are.`,
    );
  }
  return parsed.data;
}

export async function removeJournal(root: string): Promise<void> {
  await rm(journalPath(root), { force: true });
  await fsyncDir(root);
}

/** Folders whose entries the swap changes (deepest first), to fsync. */
export function touchedDirs(journal: RestoreJournal): string[] {
  const dirs = new Set<string>();
  for (const entry of journal.entries) dirs.add(dirname(join(journal.root, entry.path)));
  for (const dir of journal.created_dirs) dirs.add(dirname(join(journal.root, dir)));
  return [...dirs].sort((a, b) => b.length - a.length);
}
