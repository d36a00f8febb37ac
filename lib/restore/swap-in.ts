import { copyFile, cp, mkdir, open, readFile, rename, rm, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sha256Buffer } from '../checksum/index.ts';
import { ArkError } from '../errors.ts';
import { fsyncDir } from '../state/index.ts';
import type { FileChange } from './plan-changes.ts';
import { listFiles } from './stage-module-state.ts';

/** name → sha256 of every regular file under `dir` (empty when the folder does not exist). */
export async function hashTree(dir: string, skip: (name: string) => boolean = () => false): Promise<Map<string, string>> {
  const files = await listFiles(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const out = new Map<string, string>();
  for (const name of files.filter((n) => !skip(n))) out.set(name, sha256Buffer(await readFile(join(dir, name))));
  return out;
}

/**
 * Copy the live folder's current files into a new folder (forensics: the corrupted state is
 * evidence) and fsync them. Done before anything live changes. The folder is created
 * exclusively: when `preserveDir` exists already, `-2`, `-3`... is appended, so an earlier
 * preserved copy is never mixed with or overwritten. Returns the folder actually used.
 */
export async function preserveTree(liveDir: string, names: readonly string[], preserveDir: string): Promise<string> {
  const dir = await makeFreshDir(preserveDir);
  for (const name of names) {
    const target = join(dir, name);
    await mkdir(dirname(target), { recursive: true });
    await cp(join(liveDir, name), target, { preserveTimestamps: true, errorOnExist: true, force: false });
    await fsyncFile(target);
  }
  await fsyncDir(dir);
  await fsyncDir(dirname(dir));
  return dir;
}

async function makeFreshDir(wanted: string): Promise<string> {
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

/**
 * Apply `changes` to `liveDir`: each file is renamed into place (atomic per file, so a
 * service or a crash sees the old or the new file, never a torn one; a directory bind mount
 * like docker-compose's ./modules/zeroia/state keeps working because the folder itself is
 * never replaced). If a step fails, the steps already applied are undone in reverse order
 * from `preserveDir` (which must hold every file in `preserved`) and an ArkError says whether
 * the live files are back as they were.
 */
export async function swapIn(options: { liveDir: string; stagedDir: string; prefix: string; changes: readonly FileChange[]; preserveDir: string; preserved: readonly string[] }): Promise<void> {
  const { liveDir, stagedDir, prefix } = options;
  const rel = (path: string) => path.slice(prefix.length);
  const applied: FileChange[] = [];
  let current: FileChange | undefined;
  try {
    await mkdir(liveDir, { recursive: true });
    for (const change of options.changes) {
      current = change;
      if (change.action === 'replace' || change.action === 'create') {
        await moveIntoPlace(join(stagedDir, rel(change.path)), join(liveDir, rel(change.path)));
      } else if (change.action === 'remove') {
        await unlink(join(liveDir, rel(change.path)));
      } else {
        continue;
      }
      applied.push(change); // only once the step has happened: rename and unlink are all-or-nothing
    }
    current = undefined;
    await fsyncDir(liveDir);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const what = current ? `${current.action} ${current.path}` : 'sync the state folder';
    const leftOver = await undo(liveDir, options.preserveDir, new Set(options.preserved), applied.reverse(), rel);
    if (leftOver.length > 0) {
      throw new ArkError(
        'RESTORE_ROLLBACK_FAILED',
        `restore failed (${what}: ${reason}) and the previous files could not all be put back:\n  ${leftOver.join('\n  ')}\nThe previous files are preserved in ${options.preserveDir}: copy them back by hand.`,
        { cause: error, details: { preservedAt: options.preserveDir, rollbackFailed: leftOver } },
      );
    }
    throw new ArkError('RESTORE_SWAP_FAILED', `restore failed (${what}: ${reason}); the live files were put back as they were (a copy is preserved in ${options.preserveDir})`, {
      cause: error,
      details: { preservedAt: options.preserveDir },
    });
  }
}

/** Undo applied changes, newest first, best effort: returns what could not be put back. */
async function undo(liveDir: string, preserveDir: string, preserved: ReadonlySet<string>, applied: readonly FileChange[], rel: (path: string) => string): Promise<string[]> {
  const problems: string[] = [];
  for (const change of applied) {
    const name = rel(change.path);
    try {
      if (change.action === 'create') await rm(join(liveDir, name), { force: true });
      else if (preserved.has(name)) await copyInto(join(preserveDir, name), join(liveDir, name));
      else throw new Error('no preserved copy');
    } catch (error) {
      problems.push(`${change.path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  await fsyncDir(liveDir).catch(() => {});
  return problems;
}

/** rename(2) when on the same filesystem; otherwise copy to a temp name beside the target, fsync, rename. */
async function moveIntoPlace(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  try {
    await rename(source, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyInto(source, target);
  }
}

async function copyInto(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const tmp = join(dirname(target), `.ark-restore-tmp-${process.pid}-${Date.now()}`);
  try {
    await copyFile(source, tmp);
    await fsyncFile(tmp);
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
