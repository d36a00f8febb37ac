import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  assertChecksumsOk,
  parseManifest,
  sha256FileShown,
  verifyChecksums,
  type BackupManifest,
  type SegmentIndex,
} from '../checksum/index.ts';
import {
  describeDiskFailure,
  diskFailureOf,
  IntegrityError,
  IoError,
  isArkError,
  NotFoundError,
  type ArkError,
} from '../errors.ts';
import { archiveFileNames, manifestFileName, stampTime } from '../layout/index.ts';
import type { Policy } from '../policy/index.ts';
import type { ProgressReporter } from '../progress.ts';
import type { BackupRef } from './find-backups.ts';

// A backup the restore may use, whatever it came from: a daily backup folder (checksums from
// its sha256sum file), or — for disk-recovery — an archive already downloaded and decrypted,
// with the sha256 it must have. The pipeline only ever asks these questions.

export interface RecoveryPoint {
  /** As reported: the manifest's backup_date, or YYYY-MM-DD when only the date is known. */
  display: string | null;
  /** For comparisons with snapshots: that instant, or the end of that day (the backup ran some time that day). */
  at: Date | null;
}

export interface BackupCandidate {
  /** "arkalia_20261125", or the archive's name. */
  label: string;
  date: string | null;
  /** The backup folder, when there is one. */
  dir: string | null;
  /** The file holding a policy archive ("states"): the one present among .tar.gz, .tar.zst, .tar (else the .tar.gz name); null when the policy has no such archive. */
  archiveFile(archive: string): Promise<string | null>;
  /**
   * Verify that archive against what vouches for it, reading it once, BEFORE anything reads
   * it as a tarball. Returns its sha256. IntegrityError when it does not match or nothing
   * vouches for it; NotFoundError when the file is missing. `progress` shows the reading.
   */
  verify(archive: string, progress?: ProgressReporter): Promise<string>;
  /**
   * When the data was captured: the backup's, or one archive's (a recovery point carries an
   * archive that was not due from an earlier capture: its manifest's captured_at).
   */
  recoveryPoint(archive?: string): Promise<RecoveryPoint>;
  /** Members the manifest declares for an archive (to size the extraction caps), when known. */
  declaredMembers(archive: string): Promise<number | null>;
  /** The archive's uncompressed (tar) bytes the manifest declares, when known: what staging it takes at most. */
  declaredTarBytes(archive: string): Promise<number | null>;
  /** The archive's runs the manifest gives (archive/segments.ts), when it was written in runs: a restore of one folder reads only its runs. */
  declaredSegments(archive: string): Promise<SegmentIndex | null>;
  /** State files the backup itself recorded as invalid TOML when it was taken. */
  declaredInvalid(): Promise<ReadonlySet<string>>;
}

/** A daily backup folder, as full-backup.mts (or the runbook's bash) wrote it. */
export function dailyCandidate(ref: BackupRef, policy: Policy): BackupCandidate {
  let manifest: Promise<BackupManifest | null> | undefined;
  const readManifest = () =>
    (manifest ??= readFile(join(ref.dir, manifestFileName(ref.date)), 'utf8').then(
      (t) => {
        try {
          return parseManifest(t);
        } catch {
          return null; // damaged: the checksums still vouch for the archives
        }
      },
      (error: unknown) => {
        // None (the runbook's bash wrote no manifest) is fine; one that cannot be read is not:
        // what it says (the states it recorded as invalid) decides what may be restored.
        const errno = diskFailureOf(error);
        if (errno) throw new IoError(errno, 'Nothing was changed.', { doing: `reading ${manifestFileName(ref.date)}` });
        return null;
      },
    ));
  const archiveFile = async (archive: string) => {
    const spec = policy.archives[archive];
    if (!spec) return null;
    const names = archiveFileNames(spec.prefix, ref.date).map((name) => join(ref.dir, name));
    for (const name of names)
      if (
        await stat(name).then(
          (i) => i.isFile(),
          () => false,
        )
      )
        return name;
    return names[0]!;
  };
  return {
    label: basename(ref.dir),
    date: ref.date,
    dir: ref.dir,
    archiveFile,
    async verify(archive, progress) {
      const file = await archiveFile(archive);
      if (file === null) throw new NotFoundError('ARCHIVE_MISSING', `the policy defines no archive "${archive}"`);
      await assertPresent(file, ref.dir);
      const only = { only: [basename(file)], ...(progress ? { progress } : {}) };
      const results = await verifyChecksums(ref.checksumFile, only).catch((error: unknown) => {
        throw isArkError(error) && error.code === 'CHECKSUM_FILE_MISSING' ? unverifiable(ref, file, error) : error;
      });
      assertChecksumsOk(results, ref.checksumFile);
      return results[0]!.expected;
    },
    async recoveryPoint(archive) {
      const m = await readManifest();
      const captured = archive === undefined ? undefined : m?.archives?.find((a) => a.name === archive)?.captured_at;
      if (captured !== undefined && !Number.isNaN(Date.parse(captured)))
        return { display: captured, at: new Date(captured) };
      if (m) return { display: m.backup_date, at: new Date(m.backup_date) };
      // No manifest (the runbook's bash wrote it): the end of its day, or the minute its point's name gives.
      const stamp = ref.date;
      const [y, mo, d] = [stamp.slice(0, 4), stamp.slice(4, 6), stamp.slice(6, 8)];
      if (stamp.length > 8)
        return { display: `${y}-${mo}-${d} ${stamp.slice(9, 11)}:${stamp.slice(11, 13)}`, at: stampTime(stamp) };
      return { display: `${y}-${mo}-${d}`, at: stampTime(stamp, 'end-of-day') };
    },
    async declaredMembers(archive) {
      const file = await archiveFile(archive);
      return (await readManifest())?.archives?.find((a) => a.file === (file && basename(file)))?.members ?? null;
    },
    async declaredTarBytes(archive) {
      const file = await archiveFile(archive);
      return (await readManifest())?.archives?.find((a) => a.file === (file && basename(file)))?.tar_bytes ?? null;
    },
    async declaredSegments(archive) {
      const file = await archiveFile(archive);
      return (await readManifest())?.archives?.find((a) => a.file === (file && basename(file)))?.segments ?? null;
    },
    async declaredInvalid() {
      return new Set((await readManifest())?.invalid_states?.map((s) => s.path) ?? []);
    },
  };
}

export interface ArchiveCandidateOptions {
  /** The policy archive it is ("states"). */
  archive: string;
  /** The archive on disk (downloaded and decrypted). */
  file: string;
  /** The sha256 it must have (from a manifest or checksum file that was itself verified). */
  sha256: string;
  label?: string;
  date?: string | null;
  recoveryPoint?: RecoveryPoint;
  members?: number | null;
  tarBytes?: number | null;
  declaredInvalid?: readonly string[];
}

/** One archive with its expected sha256: how disk-recovery plugs into the restore pipeline. */
export function archiveCandidate(options: ArchiveCandidateOptions): BackupCandidate {
  const expected = options.sha256.toLowerCase();
  return {
    label: options.label ?? basename(options.file),
    date: options.date ?? null,
    dir: null,
    archiveFile: async (archive) => (archive === options.archive ? options.file : null),
    async verify(archive, progress) {
      if (archive !== options.archive)
        throw new NotFoundError(
          'ARCHIVE_MISSING',
          `${basename(options.file)} is the ${options.archive} archive, not ${archive}`,
        );
      await assertPresent(options.file, null);
      const size = (await stat(options.file)).size;
      const { sha256 } = await sha256FileShown(options.file, size, progress);
      if (sha256 !== expected) {
        throw new IntegrityError(
          'CHECKSUM_MISMATCH',
          `checksum verification failed:\n  ${basename(options.file)}: sha256 ${sha256} != expected ${expected}`,
          {
            details: { failed: [{ name: basename(options.file), problem: 'mismatch' }] },
          },
        );
      }
      return sha256;
    },
    recoveryPoint: async () => options.recoveryPoint ?? { display: null, at: null },
    declaredMembers: async () => options.members ?? null,
    declaredTarBytes: async () => options.tarBytes ?? null,
    declaredSegments: async () => null, // disk recovery restores whole archives
    declaredInvalid: async () => new Set(options.declaredInvalid ?? []),
  };
}

async function assertPresent(file: string, dir: string | null): Promise<void> {
  const info = await stat(file).catch((error: unknown) => {
    const errno = diskFailureOf(error);
    if (errno) throw new IoError(errno, 'Nothing was changed.', { doing: `looking at ${basename(file)}` });
    return null;
  });
  if (info?.isFile()) return;
  const states = basename(file).startsWith('arkalia_states_');
  throw new NotFoundError(
    states ? 'STATES_ARCHIVE_MISSING' : 'ARCHIVE_MISSING',
    `${dir ?? 'the backup'} has no ${basename(file)}`,
  );
}

/**
 * A backup whose checksum file is gone is an integrity problem (exit 3), not a missing
 * backup (exit 1): the archive is there, but nothing vouches for it, and an archive nobody
 * vouches for is never extracted (a partial copy or tampering look exactly like this).
 */
function unverifiable(ref: BackupRef, file: string, cause: ArkError): IntegrityError {
  const archive = basename(file);
  const sums = basename(ref.checksumFile);
  const errno = diskFailureOf(cause);
  return new IntegrityError(
    'CHECKSUM_FILE_MISSING',
    `${ref.dir} has no readable ${sums}${errno ? ` (reading it failed: ${describeDiskFailure(errno)})` : ''}, so ${archive} cannot be verified: refusing to extract it. ` +
      `Restore another date (name it as YYYYMMDD), or recover ${sums} from a copy you trust (offsite) first.`,
    { cause },
  );
}
