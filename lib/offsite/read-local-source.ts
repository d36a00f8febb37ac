import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseChecksumFile, sha256File } from '../checksum/index.ts';
import { IntegrityError, NotFoundError } from '../errors.ts';
import { isExcluded, type LocalFile } from './plan-sync.ts';
import { isRemoteName } from './remote.ts';
import { SUMS_FILE } from '../layout/index.ts';

/** The local folder's own checksum file (written by encrypted-backup, sha256sum format). */

export interface LocalSource {
  dir: string;
  /** Files that verified against the local SHA256SUMS: the only ones ever sent. */
  files: LocalFile[];
  /** Present but not sent, and why (unlisted, mismatch, name not portable). */
  refused: { name: string; reason: string; integrity: boolean }[];
  /** Listed in SHA256SUMS but not present (pruned, or lost). */
  missing: string[];
}

/**
 * Verify first, always: every file to send is hashed and compared with the local
 * SHA256SUMS before anything leaves the machine, so a corrupted local archive is never sent
 * over a good offsite copy. Files nobody vouches for are refused, not sent.
 */
export async function readLocalSource(dir: string): Promise<LocalSource> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT')
      throw new NotFoundError(
        'ENCRYPTED_DIR_MISSING',
        `${dir} does not exist: run encrypted-backup first, or check --backup-dir / ARK_BACKUP_DIR`,
        { cause: error },
      );
    throw error;
  });
  const candidates = entries
    .filter((e) => e.isFile() && !isExcluded(e.name))
    .map((e) => e.name)
    .sort();
  let sumsText: string | undefined;
  try {
    sumsText = await readFile(join(dir, SUMS_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (sumsText === undefined) {
    if (candidates.length === 0) return { dir, files: [], refused: [], missing: [] };
    throw new IntegrityError(
      'ENCRYPTED_SUMS_MISSING',
      `${join(dir, SUMS_FILE)} is missing: nothing vouches for the ${candidates.length} file(s) in ${dir}, so none is sent (encrypted-backup writes it; \`sha256sum *.gpg > ${SUMS_FILE}\` in that folder makes one by hand)`,
    );
  }
  const listed = new Map(parseChecksumFile(sumsText, join(dir, SUMS_FILE)).map((e) => [e.name, e.sha256]));
  const files: LocalFile[] = [];
  const refused: LocalSource['refused'] = [];
  for (const name of candidates) {
    if (!isRemoteName(name)) {
      refused.push({
        name,
        reason: 'its name has characters other than letters, digits and _ . + -',
        integrity: false,
      });
      continue;
    }
    const expected = listed.get(name);
    if (expected === undefined) {
      refused.push({ name, reason: `not listed in ${SUMS_FILE}: nothing vouches for it`, integrity: true });
      continue;
    }
    const { sha256, bytes } = await sha256File(join(dir, name));
    if (sha256 !== expected) {
      refused.push({
        name,
        reason: `sha256 ${sha256} does not match ${expected} in ${SUMS_FILE}: the local copy is corrupt`,
        integrity: true,
      });
      continue;
    }
    files.push({ name, size: bytes, sha256 });
  }
  const present = new Set(candidates);
  const missing = [...listed.keys()].filter((name) => !present.has(name)).sort();
  return { dir, files, refused, missing };
}
