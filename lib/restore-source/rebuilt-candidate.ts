import { basename } from 'node:path';
import type { Policy } from '../policy/index.ts';
import { dailyCandidate, type BackupCandidate } from '../restore/index.ts';
import { statesArchiveName } from '../layout/index.ts';
import type { RebuiltBackup } from './rebuild-backup.ts';

/**
 * The rebuilt daily folder as the restore pipeline sees any daily backup (each archive is
 * verified against checksums_<DATE>.sha256 before it is read), plus what the offsite copy
 * proves but does not carry: the member counts, the TOML files that were already invalid
 * when the backup ran (restored as they were, and named, rather than rejecting the backup),
 * and when it ran (`backupDate`, from the offsite manifest: the rebuilt folder has no
 * backup_manifest_<DATE>.json, so without it the recovery point is only the day).
 */
export function rebuiltCandidate(
  rebuilt: RebuiltBackup,
  policy: Policy,
  backupDate: string | null = null,
): BackupCandidate {
  const base = dailyCandidate(
    {
      date: rebuilt.date,
      dir: rebuilt.dir,
      statesArchive: `${rebuilt.dir}/${statesArchiveName(rebuilt.date)}`,
      checksumFile: rebuilt.checksumFile,
    },
    policy,
  );
  const byFile = new Map(rebuilt.archives.map((a) => [basename(a.file), a]));
  return {
    ...base,
    async declaredMembers(archive) {
      const file = await base.archiveFile(archive);
      return file === null ? null : (byFile.get(basename(file))?.members ?? null);
    },
    declaredInvalid: async () => new Set(rebuilt.archives.flatMap((a) => a.invalidToml.map((t) => t.path))),
    recoveryPoint: async () =>
      backupDate !== null && !Number.isNaN(Date.parse(backupDate))
        ? { display: backupDate, at: new Date(backupDate) }
        : base.recoveryPoint(),
  };
}
