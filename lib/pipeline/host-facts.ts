import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseToml } from '../state/index.ts';

/** version.toml's current_version (bumpver layout, or top level), or null when absent/unreadable. */
export async function readArkaliaVersion(root: string): Promise<string | null> {
  let parsed: Record<string, unknown>;
  try {
    parsed = parseToml(await readFile(join(root, 'version.toml'), 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
  const bumpver = parsed.bumpver as Record<string, unknown> | undefined;
  const version = bumpver?.current_version ?? parsed.current_version ?? parsed.version;
  return typeof version === 'string' ? version : null;
}

/** HEAD of the Arkalia root's git repository, or null when it is not one (or git is absent). */
export async function readGitCommit(root: string): Promise<string | null> {
  try {
    const { stdout } = await promisify(execFile)('git', ['-C', root, 'rev-parse', 'HEAD'], { timeout: 5000 });
    const commit = stdout.trim();
    return /^[0-9a-f]{40,64}$/.test(commit) ? commit : null;
  } catch {
    return null;
  }
}
