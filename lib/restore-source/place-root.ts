import { lstat, mkdir, readdir, readlink, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ArkError, UsageError } from '../errors.ts';
import { JOURNAL_NAME } from '../restore/index.ts';
import { processExists } from '../lock/index.ts';
import { fsyncDir } from '../state/index.ts';

// How a recovered tree becomes the Arkalia root so that the root is always either complete or
// as it was, never a partial tree that looks usable:
//   rename    the root is absent, or an empty folder on its parent's filesystem: the tree is
//             built in a hidden folder beside it and renamed into place in one step (a rename
//             onto an empty folder replaces it). A killed run leaves only the hidden folder,
//             which the next run removes.
//   in-place  the root is an empty mount point (a new disk mounted there: nothing can be
//             renamed onto it), or an interrupted restore left its journal there: the restore
//             pipeline swaps the files in under its write-ahead journal (rolled back on failure,
//             and by the next run after a crash).
// A root holding anything else is refused: disk recovery never restores over existing files.

export type Placement =
  | { mode: 'rename'; root: string; build: string; rootExists: boolean }
  | { mode: 'in-place'; root: string; reason: string };

const BUILD_PREFIX = '.ark-recovering-';
/** Left on a fresh filesystem by mkfs; not data. */
const IGNORED = new Set(['lost+found']);

/** Decide, reading only: UsageError when the root is not a folder or not empty. */
export async function planPlacement(
  root: string,
  options: { pid?: number; now?: () => number } = {},
): Promise<Placement> {
  const build = join(
    dirname(root),
    `${BUILD_PREFIX}${basename(root)}-${options.pid ?? process.pid}-${(options.now ?? Date.now)()}`,
  );
  const info = await lstat(root).catch(() => null);
  if (info === null) return { mode: 'rename', root, build, rootExists: false };
  if (info.isSymbolicLink())
    throw new UsageError(
      `--root ${root} is a link (to ${await readlink(root).catch(() => '?')}): give the folder itself; disk recovery never writes through a link`,
    );
  if (!info.isDirectory()) throw new UsageError(`--root ${root} exists and is not a folder`);
  const names = await readdir(root);
  const journal = names.includes(JOURNAL_NAME);
  const others = names.filter((n) => !IGNORED.has(n) && n !== JOURNAL_NAME && !n.startsWith('.ark-restore-'));
  if (others.length > 0 && !journal) {
    const shown = others.sort().slice(0, 5).join(', ') + (others.length > 5 ? `, … (${others.length} entries)` : '');
    throw new UsageError(
      `--root ${root} is not empty (${shown}): disk recovery restores into a new, empty or absent root and never over existing files. ` +
        'To restore over an existing Arkalia root use disaster-recovery.mts; otherwise move that folder away or give another --root.',
      { details: { root, entries: others.slice(0, 20) } },
    );
  }
  if (journal)
    return {
      mode: 'in-place',
      root,
      reason: `an interrupted restore left ${JOURNAL_NAME} in ${root}: it is settled (rolled back) first, then the files are swapped in under a new journal`,
    };
  const mountPoint = (await stat(dirname(root))).dev !== info.dev || names.some((n) => IGNORED.has(n));
  if (mountPoint)
    return {
      mode: 'in-place',
      root,
      reason: `${root} is a mount point (nothing can be renamed onto it): the files are swapped in under the restore journal, rolled back on failure`,
    };
  return { mode: 'rename', root, build, rootExists: true };
}

/** Create the hidden build folder beside the root (and the root's parent if the new disk lacks it), after removing builds of killed runs. */
export async function createBuild(p: Extract<Placement, { mode: 'rename' }>): Promise<void> {
  const parent = dirname(p.root);
  await mkdir(parent, { recursive: true });
  await sweepStaleBuilds(p.root);
  await mkdir(p.build, { mode: 0o755 });
}

/** The one step that makes the root appear: rename the complete build onto it. */
export async function renameIntoPlace(p: Extract<Placement, { mode: 'rename' }>): Promise<void> {
  try {
    await rename(p.build, p.root);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') {
      throw new ArkError(
        'ROOT_CHANGED',
        `${p.root} is no longer empty (something was written there during the recovery): it was left as it is, and the recovered tree discarded. Run again once nothing writes there.`,
        { cause: error },
      );
    }
    throw error;
  }
  await fsyncDir(dirname(p.root));
}

export async function discardBuild(p: Placement): Promise<void> {
  if (p.mode === 'rename') await rm(p.build, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 });
}

/** Builds of killed runs, and the restore workspaces staged beside them (they hold plaintext state and .env). */
async function sweepStaleBuilds(root: string): Promise<void> {
  const prefix = `${BUILD_PREFIX}${basename(root)}-`;
  for (const name of await readdir(dirname(root)).catch(() => [] as string[])) {
    const rest = name.startsWith(prefix)
      ? name.slice(prefix.length)
      : name.startsWith(`.ark-restore-${prefix}`)
        ? name.slice(`.ark-restore-${prefix}`.length)
        : null;
    const pid = Number(/^(\d+)-\d+(?:-|$)/.exec(rest ?? '')?.[1]);
    if (rest !== null && Number.isInteger(pid) && !processExists(pid))
      await rm(join(dirname(root), name), { recursive: true, force: true });
  }
}
