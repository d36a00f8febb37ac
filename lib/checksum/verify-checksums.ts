import { readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { IntegrityError } from '../errors.ts';
import { parseChecksumFile } from './checksum-file.ts';
import type { ProgressReporter } from '../progress.ts';
import { sha256FileShown } from './hash-stream.ts';

export interface ChecksumResult {
  name: string;
  expected: string;
  actual: string | null;
  ok: boolean;
  problem?: 'mismatch' | 'missing';
}

/**
 * Verify the files a checksum file lists, as `sha256sum -c` does, relative to its folder.
 * `only` limits the check to some names (emergency restore verifies just the states archive);
 * a name in `only` that the checksum file does not list is an integrity error: an archive
 * nobody vouched for is never trusted.
 */
export async function verifyChecksums(
  checksumPath: string,
  options: {
    only?: readonly string[];
    /**
     * sha256 by inode, shared across calls: a file hard-linked into several recovery points is
     * read once per run (same device, inode, size, mtime and ctime: the same bytes).
     */
    inodeHashes?: Map<string, string>;
    /** Progress of each file read: a task per file (named hash:<file>). */
    progress?: ProgressReporter;
  } = {},
): Promise<ChecksumResult[]> {
  let text: string;
  try {
    text = await readFile(checksumPath, 'utf8');
  } catch (error) {
    throw new IntegrityError(
      'CHECKSUM_FILE_MISSING',
      `checksum file ${checksumPath} cannot be read, so nothing it should vouch for can be verified: ${(error as NodeJS.ErrnoException).code ?? error}`,
      { cause: error },
    );
  }
  const entries = parseChecksumFile(text, basename(checksumPath));
  const dir = join(checksumPath, '..');
  for (const name of options.only ?? []) {
    if (!entries.some((e) => e.name === name)) {
      throw new IntegrityError(
        'CHECKSUM_NOT_LISTED',
        `${basename(checksumPath)} does not list ${name}: refusing to trust an unverified archive`,
      );
    }
  }
  const wanted = options.only ? entries.filter((e) => options.only!.includes(e.name)) : entries;
  const results: ChecksumResult[] = [];
  for (const entry of wanted) {
    if (isAbsolute(entry.name) || entry.name.split('/').includes('..')) {
      throw new IntegrityError(
        'CHECKSUM_FILE_MALFORMED',
        `${basename(checksumPath)} names a file outside its folder: ${entry.name}`,
      );
    }
    try {
      const sha256 = await hashOnce(join(dir, entry.name), options.inodeHashes, options.progress);
      results.push({
        name: entry.name,
        expected: entry.sha256,
        actual: sha256,
        ok: sha256 === entry.sha256,
        ...(sha256 === entry.sha256 ? {} : { problem: 'mismatch' as const }),
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      results.push({ name: entry.name, expected: entry.sha256, actual: null, ok: false, problem: 'missing' });
    }
  }
  return results;
}

/** Throw an IntegrityError naming every file that failed, or return quietly. */
export function assertChecksumsOk(results: readonly ChecksumResult[], checksumPath: string): void {
  const bad = results.filter((r) => !r.ok);
  if (bad.length === 0) return;
  const lines = bad.map(
    (r) => `${r.name}: ${r.problem === 'missing' ? 'missing' : `sha256 ${r.actual} != expected ${r.expected}`}`,
  );
  throw new IntegrityError(
    'CHECKSUM_MISMATCH',
    `checksum verification failed (${checksumPath}):\n  ${lines.join('\n  ')}`,
    {
      details: { failed: bad.map((r) => ({ name: r.name, problem: r.problem })) },
    },
  );
}

async function hashOnce(
  path: string,
  cache: Map<string, string> | undefined,
  progress: ProgressReporter | undefined,
): Promise<string> {
  const info = await stat(path, { bigint: true });
  const key = `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`;
  const known = cache?.get(key);
  if (known !== undefined) return known;
  const { sha256 } = await sha256FileShown(path, Number(info.size), progress);
  cache?.set(key, sha256);
  return sha256;
}
