import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyChecksums } from '../checksum/index.ts';
import { isArkError } from '../errors.ts';
import { checksumFileName, dailyDir } from '../layout/index.ts';
import { ProgressReporter } from '../progress.ts';
import { dailyBackups, nowOf, type ChecklistOptions, type Outcome } from './check-result.ts';
import { recordVerification } from './verification-record.ts';

export interface ChecksumFailure {
  backup: string;
  archive: string;
  problem: string;
}

/** Daily: every checksum of every daily backup (an archive hard-linked into several points is read once); every archive that fails is named (integrity, exit 3). */
export async function checkChecksums(options: ChecklistOptions): Promise<Outcome> {
  const all = await dailyBackups(options);
  if (all.length === 0)
    return {
      status: 'failed',
      detail: `no daily backup in ${dailyDir(options.backupDir)} to verify`,
      data: { verified: 0, failed: [] },
    };
  const failed: ChecksumFailure[] = [];
  let verified = 0;
  const inodeHashes = new Map<string, string>(); // an archive that points share is read once
  const progress = new ProgressReporter({ sink: options.sink, totalBytes: await distinctBytes(all.map((b) => b.dir)) });
  const recordErrors: string[] = [];
  for (const backup of all) {
    const sums = checksumFileName(backup.date);
    const before = { failed: failed.length, verified };
    try {
      const results = await verifyChecksums(join(backup.dir, sums), { inodeHashes, progress });
      if (results.length === 0) failed.push({ backup: backup.name, archive: sums, problem: 'lists no file' });
      for (const r of results) {
        if (r.ok) verified += 1;
        else
          failed.push({
            backup: backup.name,
            archive: r.name,
            problem: r.problem === 'missing' ? 'missing' : `sha256 mismatch (expected ${r.expected}, got ${r.actual})`,
          });
      }
    } catch (error) {
      if (!isArkError(error) && !(error as NodeJS.ErrnoException).code) throw error;
      failed.push({ backup: backup.name, archive: sums, problem: (error as Error).message });
    }
    // What `ark list` shows as this point's last verification. Never fails the check: a
    // backup folder mounted read-only is still verified.
    const problems = failed.slice(before.failed).map(({ archive, problem }) => ({ archive, problem }));
    await recordVerification(options.backupDir, {
      backup: backup.name,
      at: nowOf(options).toISOString(),
      by: 'verify --daily',
      ok: problems.length === 0,
      archives: verified - before.verified + problems.length,
      problems,
    }).catch((error: Error) => recordErrors.push(`${backup.name}: ${error.message}`));
  }
  const data = {
    backups: all.length,
    verified,
    failed,
    ...(recordErrors.length > 0 ? { not_recorded: recordErrors } : {}),
  };
  if (failed.length > 0)
    return {
      status: 'integrity',
      detail: `${failed.length} archive(s) fail their checksum: ${failed.map((f) => `${f.backup}/${f.archive} (${f.problem})`).join('; ')}`,
      data,
    };
  return { status: 'ok', detail: `${verified} archive(s) in ${all.length} backup(s) verify`, data };
}

/** Bytes of the distinct files (inodes) in these folders: what hashing them all reads. */
async function distinctBytes(dirs: readonly string[]): Promise<number> {
  const sizes = new Map<string, number>();
  for (const dir of dirs)
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const info = await lstat(join(dir, name), { bigint: true }).catch(() => null);
      if (info?.isFile()) sizes.set(`${info.dev}:${info.ino}`, Number(info.size));
    }
  return [...sizes.values()].reduce((a, b) => a + b, 0);
}
