import { join } from 'node:path';
import { verifyChecksums } from '../checksum/index.ts';
import { diskFailureOf, IoError, isArkError } from '../errors.ts';
import { checksumFileName, statesArchiveName } from '../layout/index.ts';

export type BackupVerification = { ok: true; files: number } | { ok: false; problem: string };

/**
 * Does this backup count as good? Its checksum file (`sha256sum -c` format) must list the
 * states archive, and every file it lists must be present and match. Anything less is "not
 * good", with the reason, not thrown: a prune goes on to find an older good backup. But a
 * disk that fails to read it (EIO, EACCES…) says nothing about the backup: that is thrown
 * (IoError), so that a backup that may be the newest good one is never deleted on a read
 * error. Reads every listed archive (streaming).
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
    const errno = diskFailureOf(error);
    if (errno) throw new IoError(errno, 'No backup was deleted.', { doing: `verifying ${dir}` });
    if (isArkError(error)) return { ok: false, problem: error.message };
    const code = (error as NodeJS.ErrnoException).code;
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, problem: code && !message.includes(code) ? `${code}: ${message}` : message }; // EACCES, EIO, …
  }
}
