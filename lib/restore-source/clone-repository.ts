import { execFile } from 'node:child_process';
import { cp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ArkError, UsageError } from '../errors.ts';

// disk-recovery --clone: the runbook's `git clone` of the Arkalia repository, which brings
// back what the offsite copy does not hold (code, Dockerfiles, docker-compose.yml, scripts).
// Cloned into a hidden folder beside the new root, then laid into the tree being recovered
// before the state is restored over it.

export interface ClonedRepository {
  dir: string;
  url: string;
  ref: string | null;
  /** The commit checked out. */
  commit: string;
}

type Git = (args: readonly string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

const git: Git = (args) =>
  new Promise((resolve) => {
    execFile(
      'git',
      [...args],
      { maxBuffer: 16 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr || (error && !stdout ? error.message : '')) });
      },
    );
  });

/** Clone `url` into `dir` (which must not exist) and check out `ref` (branch, tag or commit). Leaves nothing behind on failure. */
export async function cloneRepository(o: {
  url: string;
  ref?: string;
  dir: string;
  run?: Git;
}): Promise<ClonedRepository> {
  const run = o.run ?? git;
  const fail = async (error: ArkError): Promise<never> => {
    await rm(o.dir, { recursive: true, force: true });
    throw error;
  };
  const cloned = await run(['clone', '--quiet', '--no-hardlinks', '--', o.url, o.dir]);
  if (cloned.code !== 0) {
    const why = tail(cloned.stderr) || `git exited ${cloned.code}`;
    return fail(
      cloned.code === 127
        ? new ArkError('GIT_MISSING', `--clone needs git, which is not installed: ${why}`)
        : new ArkError('CLONE_FAILED', `git clone ${o.url} failed: ${why}`, { details: { url: o.url } }),
    );
  }
  if (o.ref !== undefined) {
    const checkout = await run(['-C', o.dir, 'checkout', '--quiet', '--detach', o.ref]);
    if (checkout.code !== 0)
      return fail(new UsageError(`--ref ${o.ref}: not a branch, tag or commit of ${o.url} (${tail(checkout.stderr)})`));
  }
  const head = await run(['-C', o.dir, 'rev-parse', 'HEAD']);
  if (head.code !== 0)
    return fail(new ArkError('CLONE_FAILED', `${o.url} has no commit to check out (${tail(head.stderr)})`));
  return { dir: o.dir, url: o.url, ref: o.ref ?? null, commit: head.stdout.trim() };
}

/**
 * Copy the repository's files (its .git included) into the tree being recovered, which is
 * empty but for what mkfs leaves. Returns the top-level names it laid, so that a failed
 * in-place recovery can take them away again.
 */
export async function layRepository(repository: string, tree: string): Promise<string[]> {
  const names = await readdir(repository);
  for (const name of names)
    await cp(join(repository, name), join(tree, name), {
      recursive: true,
      preserveTimestamps: true,
      verbatimSymlinks: true,
      errorOnExist: true,
      force: false,
    });
  return names;
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}
