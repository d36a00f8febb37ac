import { lstatSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { currentProcess } from '../lock/index.ts';
import type { FileChange } from './plan-changes.ts';
import { JOURNAL_FORMAT, type JournalEntry, type RestoreJournal } from './restore-journal.ts';
import type { Workspace } from './restore-workspace.ts';

export interface PlanSwapOptions {
  root: string;
  workspace: Workspace;
  changes: readonly FileChange[];
  /** Where the previous files will be preserved once the swap commits. */
  preserveTo: string;
  preserveBase: string;
  stoppedServices: readonly string[];
  now?: () => Date;
}

/**
 * The journal of a swap, before anything is written: for each file that changes, the
 * staged copy to rename in and the place the previous file is kept. Both are in the
 * workspace when it is on the file's filesystem (a rename cannot cross filesystems);
 * otherwise they are hidden sidecars beside the file (`.ark-restore-<id>.<name>.new/.old`).
 */
export async function planSwap(options: PlanSwapOptions): Promise<RestoreJournal> {
  const { root, workspace } = options;
  const workspaceDev = (await stat(workspace.dir)).dev;
  const devOf = deviceLookup(root);
  const entries: JournalEntry[] = [];
  const created = new Set<string>();
  const dirExists = new Map<string, boolean>();
  for (const change of options.changes) {
    if (change.action === 'unchanged') continue;
    const live = join(root, change.path);
    const sameFs = (await devOf(dirname(live))) === workspaceDev;
    const sidecar = (suffix: string) => join(dirname(live), `.ark-restore-${workspace.id}.${basename(live)}.${suffix}`);
    entries.push({
      path: change.path,
      action: change.action,
      staged: change.action === 'remove' ? null : sameFs ? join(workspace.staged, change.path) : sidecar('new'),
      previous: change.action === 'create' ? null : sameFs ? join(workspace.previous, change.path) : sidecar('old'),
      stagedSha256: change.backupSha256,
      previousSha256: change.currentSha256,
    });
    if (change.action === 'create')
      for (const dir of missingDirs(root, dirname(change.path), dirExists)) created.add(dir);
  }
  const createdDirs = [...created].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
  return {
    format: JOURNAL_FORMAT,
    id: workspace.id,
    owner: currentProcess(),
    started_at: (options.now ?? (() => new Date()))().toISOString(),
    state: 'swapping',
    root,
    workspaces: [workspace.dir],
    created_dirs: createdDirs,
    moved_dirs: await movableDirs(workspace, createdDirs, entries),
    entries,
    preserve_to: options.preserveTo,
    preserve_base: options.preserveBase,
    preserved_dir: null,
    stopped_services: [...options.stoppedServices],
  };
}

/**
 * The outermost created folders that can be renamed into place whole: every file under one is
 * a `create` entry staged in the workspace, and the staged folder holds nothing else (no other
 * file, link or folder the swap would not create). Into an empty root (a recovery) that is a
 * few folders instead of 17k link + unlink pairs: tar's one create per file, not three
 * file-system changes.
 */
async function movableDirs(
  workspace: Workspace,
  createdDirs: readonly string[],
  entries: readonly JournalEntry[],
): Promise<string[]> {
  const created = new Set(createdDirs);
  const outermost = createdDirs.filter((d) => !created.has(dirname(d)));
  const moved: string[] = [];
  for (const dir of outermost) {
    const prefix = `${dir}/`;
    const inside = entries.filter((e) => e.path.startsWith(prefix));
    if (inside.length === 0) continue;
    if (!inside.every((e) => e.action === 'create' && e.staged === join(workspace.staged, e.path))) continue;
    const files = new Set(inside.map((e) => e.path));
    const staged = await readdir(join(workspace.staged, dir), { recursive: true, withFileTypes: true }).catch(
      () => null,
    );
    if (staged === null) continue;
    const base = workspace.staged.length + 1;
    const onlyOurs = staged.every((item) => {
      const path = `${item.parentPath.slice(base)}/${item.name}`;
      return item.isDirectory() ? created.has(path) : item.isFile() && files.has(path);
    });
    if (onlyOurs && staged.filter((item) => item.isFile()).length === files.size) moved.push(dir);
  }
  return moved;
}

/**
 * Folders from `dir` up to the root that do not exist yet (root-relative). `exists` remembers
 * each folder looked at: 17k files created into an empty root ask about the same few folders.
 */
function missingDirs(root: string, dir: string, exists: Map<string, boolean>): string[] {
  const missing: string[] = [];
  // Stryker disable next-line ConditionalExpression,LogicalOperator,StringLiteral: equivalent: were '.' looked at, it is the root, which exists (its device was just read), so the loop stops there all the same
  for (let d = dir; d !== '.' && d !== ''; d = dirname(d)) {
    let here = exists.get(d);
    // Stryker disable next-line ConditionalExpression: equivalent: a cache; looking at the folder again gives the same answer
    if (here === undefined) {
      try {
        // Stryker disable next-line ObjectLiteral,BooleanLiteral: equivalent: without throwIfNoEntry a missing folder throws ENOENT, and the catch below says false all the same
        here = lstatSync(join(root, d), { throwIfNoEntry: false }) !== undefined;
      } catch {
        here = false; // ENOTDIR, EACCES: creating it will fail, and the swap roll back
      }
      exists.set(d, here);
    }
    if (here) break;
    missing.push(d);
  }
  return missing;
}

/** The device of a folder, or of its nearest existing ancestor (a folder the swap will create lives there). */
function deviceLookup(root: string): (dir: string) => Promise<number> {
  const cache = new Map<string, number>();
  const lookup = async (dir: string): Promise<number> => {
    const hit = cache.get(dir);
    // Stryker disable next-line ConditionalExpression: equivalent: a cache; stat again gives the same device
    if (hit !== undefined) return hit;
    const info = await stat(dir).catch(() => null);
    const dev = info
      ? info.dev
      : dir === root || dir === dirname(dir)
        ? (await stat(root)).dev
        : await lookup(dirname(dir));
    cache.set(dir, dev);
    return dev;
  };
  return lookup;
}
