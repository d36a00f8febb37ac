import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArkError } from '../errors.ts';
import { backupDirName, dailyDir } from '../layout/index.ts';
import {
  allRejected,
  problemError,
  type decryptionKeys,
  type OffsiteFile,
  type OffsiteSet,
} from '../restore-source/index.ts';
import { serviceGroups } from '../services/index.ts';
import type { DiskRecoveryOptions } from './disk-recovery.ts';
import type { DiskRecoveryReport } from './disk-recovery-report.ts';
import { managed, policyServices } from './restore-services.ts';

/** What disaster recovery restores; disk recovery restores the ones the offsite set holds. */
export const DISK_RECOVERY_DATASETS = ['states', 'configs', 'infra', 'database'] as const;

/** When the set's backup ran, as encrypted-backup recorded it offsite (the required archive's record). */
export function backupDateOf(files: readonly OffsiteFile[]): string | null {
  return files.find((f) => f.required)?.backupDate ?? null;
}

/** --dry-run: the set that would be tried first, checked against the keys; nothing is downloaded but the manifest, nothing written. */
export async function planDiskRecovery(
  report: DiskRecoveryReport,
  sets: OffsiteSet[],
  keys: ReturnType<typeof decryptionKeys>,
  o: DiskRecoveryOptions,
): Promise<DiskRecoveryReport> {
  const { sink, policy } = o;
  const errors: ArkError[] = [];
  for (const set of sets) {
    if (set.problem) {
      const error = problemError(set.problem);
      report.rejected.push({
        date: set.date,
        code: set.problem.code,
        name: set.problem.name,
        reason: set.problem.reason,
      });
      sink({
        kind: 'backup-rejected',
        backup: `offsite set ${set.date}`,
        dir: null,
        date: set.date,
        code: set.problem.code,
        reason: set.problem.reason,
      });
      if (o.date !== undefined) throw error;
      errors.push(error);
      continue;
    }
    const files: OffsiteFile[] = [];
    for (const f of set.files) {
      try {
        await keys.forFile(f.name, f.recipients);
        files.push(f);
      } catch (error) {
        if (f.required) throw error;
        sink({
          kind: 'warning',
          code: (error as ArkError).code,
          message: `${f.name} would be left out: ${(error as Error).message}`,
        });
      }
    }
    const dir = join(dailyDir(o.backupDir), backupDirName(set.date));
    const exists = await stat(dir).then(
      () => true,
      () => false,
    );
    const datasets = DISK_RECOVERY_DATASETS.filter(
      (d) => policy.datasets[d] && files.some((f) => f.archive === policy.datasets[d]!.archive),
    );
    report.plan = {
      date: set.date,
      fetch: files.map((f) => ({ name: f.name, bytes: f.bytes, sha256: f.sha256 })),
      decrypt: files.map((f) => ({ file: f.archiveFile, bytes: f.sourceBytes, sha256: f.sourceSha256 })),
      rebuild: dir,
      datasets,
    };
    report.backup = {
      date: set.date,
      dir,
      recoveryPoint: backupDateOf(files),
      encryptedAt: files.find((f) => f.required)?.encryptedAt ?? null,
      reused: exists,
    };
    report.keys = [...keys.used.values()].map((k) => ({
      fingerprint: k.info.fingerprint,
      keyIds: k.info.keyIds,
      userIds: k.info.userIds,
      source: k.source,
    }));
    for (const f of files)
      sink({
        kind: 'dry-run',
        message: `would fetch ${f.name} (${f.bytes} bytes, sha256 ${f.sha256}) and decrypt it to ${f.archiveFile} (sha256 ${f.sourceSha256})`,
      });
    sink({
      kind: 'dry-run',
      message: exists
        ? `${dir} exists: it would be verified against this set and reused, or left alone if it differs`
        : `would rebuild ${dir} with ${files.map((f) => f.archiveFile).join(', ')} and its checksums file`,
    });
    sink({
      kind: 'dry-run',
      message: `would restore ${datasets.join(', ')} into ${o.root} (${report.placement.mode === 'rename' ? 'built beside it, renamed into place when complete' : report.placement.reason})`,
    });
    if (managed(policyServices(policy, o.services)))
      sink({
        kind: 'dry-run',
        message: `would then start ${serviceGroups(policy)
          .map((g) => g.map((t) => t.container).join(' + '))
          .join(' → ')}, each group healthy before the next`,
      });
    sink({
      kind: 'dry-run',
      message:
        'if a download or a decryption does not verify, the next older set would be tried; nothing was downloaded (but the manifest) or written',
    });
    return report;
  }
  throw allRejected(errors, report.rejected);
}
