import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { processExists } from '../lock/index.ts';

// Where a restore stages files: beside the root when that is the same filesystem (so a run
// killed before the swap leaves the root itself untouched), else inside it; on the same
// filesystem either way, so that the swap is made of renames. A dry run stages in /tmp.

export interface Workspace {
  id: string;
  dir: string;
  /** The backup's files, at their root-relative paths. */
  staged: string;
  /** Hard links to the live files the swap replaces or removes, kept until it commits. */
  previous: string;
}

const inside = /^\.ark-restore-(?:[a-z0-9_]+-)?(\d+)-\d+$/;
const sibling = (root: string) =>
  new RegExp(`^\\.ark-restore-${basename(root).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)-\\d+$`);

/**
 * A new, private (0700) workspace, created exclusively: a name taken by anything (a link
 * planted there to catch the staged .env) is never reused. A dry run's is made by mkdtemp.
 */
export async function createWorkspace(root: string, options: { dryRun: boolean; pid?: number }): Promise<Workspace> {
  const id = `${options.pid ?? process.pid}-${Date.now()}`;
  const dir = options.dryRun ? await mkdtemp(join(tmpdir(), `ark-restore-${id}-`)) : await sameFilesystemDir(root, id);
  return { id, dir, staged: join(dir, 'staged'), previous: join(dir, 'previous') };
}

async function sameFilesystemDir(root: string, id: string): Promise<string> {
  const parent = dirname(root);
  const beside = join(parent, `.ark-restore-${basename(root)}-${id}`);
  if (parent !== root) {
    try {
      await mkdir(beside, { mode: 0o700 });
      if ((await stat(beside)).dev === (await stat(root)).dev) return beside;
      await rm(beside, { recursive: true, force: true });
    } catch {
      // parent not writable (or gone): stage inside the root
    }
  }
  const inside = join(root, `.ark-restore-${id}`);
  await mkdir(inside, { mode: 0o700 });
  return inside;
}

/** Remove workspaces that restores killed before their swap left behind (their process is gone). */
export async function sweepStaleWorkspaces(
  root: string,
  isAlive: (pid: number) => boolean = processExists,
): Promise<string[]> {
  const removed: string[] = [];
  for (const [dir, pattern] of [
    [dirname(root), sibling(root)],
    [root, inside],
  ] as const) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const pid = Number(pattern.exec(name)?.[1]);
      if (!Number.isInteger(pid) || isAlive(pid)) continue;
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(join(dir, name));
    }
  }
  return removed;
}
