import { join } from 'node:path';
import { verifyChecksums } from '../checksum/index.ts';
import { isArkError } from '../errors.ts';
import { checksumFileName, statesArchiveName } from '../layout/index.ts';

export type BackupVerification = { ok: true; files: number } | { ok: false; problem: string };

/**
 * Does this backup count as good? Its checksum file (`sha256sum -c` format) must list the
 * states archive, and every file it lists must be present and match. Anything less, including
 * an unreadable file, is "not good", with the reason: never thrown, because a prune must go on
 * to find an older good backup. Reads every listed archive (streaming).
 */
export async function verifyBackup(dir: string, date: string): Promise<BackupVerification> {
  const checksumFile = checksumFileName(date);
  try {
    const results = await verifyChecksums(join(dir, checksumFile));
    if (!results.some((r) => r.name === statesArchiveName(date))) {
      return { ok: false, problem: `${checksumFile} does not list ${statesArchiveName(date)}` };
    }
    const bad = results.filter((r) => !r.ok);
    if (bad.length > 0)
      return {
        ok: false,
        problem: bad.map((r) => `${r.name}: ${r.problem === 'missing' ? 'missing' : 'sha256 mismatch'}`).join('; '),
      };
    return { ok: true, files: results.length };
  } catch (error) {
    if (isArkError(error)) return { ok: false, problem: error.message };
    const code = (error as NodeJS.ErrnoException).code;
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, problem: code && !message.includes(code) ? `${code}: ${message}` : message }; // EACCES, EIO, …
  }
}
