import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { assertChecksumsOk, formatChecksumFile, parseChecksumFile, verifyChecksums } from '../checksum/index.ts';
import { decryptFile, type UnlockedKey } from '../crypto/index.ts';
import { ArkError, isArkError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { ProgressReporter } from '../progress.ts';
import type { Remote, RetryOptions } from '../offsite/index.ts';
import { backupDirName, checksumFileName, dailyDir, partialPrefix } from '../layout/index.ts';
import { processExists } from '../lock/index.ts';
import { fsyncDir, writeFileAtomic } from '../state/index.ts';
import { fetchVerified, type FetchRecord } from './fetch-verified.ts';
import type { OffsiteFile, OffsiteSet, SetProblem } from './plan-offsite-sets.ts';
import { scanArchive } from './scan-archive.ts';

export interface RebuiltArchive {
  archive: string;
  file: string;
  bytes: number;
  sha256: string;
  members: number;
  invalidToml: { path: string; reason: string }[];
}

export interface DecryptRecord {
  name: string;
  archiveFile: string;
  bytes: number;
  sha256: string;
  keyId: string | null;
  fingerprint: string | null;
}

export interface RebuiltBackup {
  date: string;
  dir: string;
  checksumFile: string;
  archives: RebuiltArchive[];
  fetched: FetchRecord[];
  decrypted: DecryptRecord[];
  /** Optional archives left out (not vouched for, damaged, other recipients), and why. */
  dropped: SetProblem[];
  /** The folder was already there and verified as this set: nothing was downloaded. */
  reused: boolean;
}

export interface RebuildOptions {
  /** The bare backend, read-only (fetchToFile retries itself). */
  remote: Remote;
  set: OffsiteSet;
  backupDir: string;
  keysFor: (file: OffsiteFile) => Promise<UnlockedKey[]>;
  sink: EventSink;
  retry?: RetryOptions;
}

/**
 * <backup-dir>/daily/arkalia_<DATE>/ rebuilt from one offsite set, as full-backup lays it out:
 * each .gpg is downloaded and checked against the offsite SHA256SUMS, decrypted streaming and
 * checked against the manifest's sha256 (plaintext appears only after both), and
 * checksums_<DATE>.sha256 is written from that verified manifest, so `sha256sum -c` and the
 * normal restore path accept the folder. Everything is written in a hidden
 * .arkalia_<DATE>.partial-<pid>-<ms> folder (which full-backup also sweeps) and renamed into
 * place only when complete; ciphertext goes to a hidden work folder, removed at the end.
 * Call holding the backup folder's lock. Idempotent: a folder already rebuilt from the same
 * set is verified and reused; one that holds anything else is left alone (LOCAL_BACKUP_DIFFERS).
 */
export async function rebuildBackup(o: RebuildOptions): Promise<RebuiltBackup> {
  const { set, sink } = o;
  const daily = dailyDir(o.backupDir);
  const final = join(daily, backupDirName(set.date));
  if (await exists(final)) return reuseExisting(final, set, sink);

  await mkdir(daily, { recursive: true });
  await sweepStale(daily, partialPrefix(set.date), sink);
  await sweepStale(o.backupDir, WORK_PREFIX, sink);
  const stamp = `${process.pid}-${Date.now()}`;
  const partial = join(daily, `${partialPrefix(set.date)}${stamp}`);
  const work = join(o.backupDir, `${WORK_PREFIX}${stamp}`);
  await mkdir(partial);
  const result: RebuiltBackup = {
    date: set.date,
    dir: final,
    checksumFile: join(final, checksumFileName(set.date)),
    archives: [],
    fetched: [],
    decrypted: [],
    dropped: [...set.dropped],
    reused: false,
  };
  // Each file is downloaded, then decrypted: the overall total counts both.
  const progress = new ProgressReporter({ sink, totalBytes: 2 * set.files.reduce((n, f) => n + f.bytes, 0) });
  try {
    await mkdir(work, { mode: 0o700 });
    for (const file of set.files) {
      try {
        await rebuildArchive(file, { ...o, partial, work, progress }, result);
      } catch (error) {
        if (isArkError(error)) error.details.name ??= file.name; // every failure names the offsite file
        // A damaged optional archive (logs...) does not cost the states of that day.
        if (file.required || !isOptionalDefect(error)) throw error;
        result.dropped.push({
          code: error.code,
          name: file.name,
          reason: error.message,
          exitCode: error.exitCode === 3 ? 3 : 1,
        });
        sink({
          kind: 'warning',
          code: error.code,
          message: `${file.name} left out of the rebuilt backup: ${error.message}`,
        });
      }
    }
    await writeFileAtomic(
      join(partial, checksumFileName(set.date)),
      formatChecksumFile(
        result.archives.map((a) => ({ name: a.file.slice(a.file.lastIndexOf('/') + 1), sha256: a.sha256 })),
      ),
    );
    await fsyncDir(partial);
    await rename(partial, final); // fails rather than clobber a folder that appeared meanwhile
    await fsyncDir(daily);
  } catch (error) {
    await rm(partial, { recursive: true, force: true }).catch(() => {});
    throw error;
  } finally {
    await rm(work, { recursive: true, force: true }).catch(() => {});
  }
  result.archives = result.archives.map((a) => ({
    ...a,
    file: join(final, a.file.slice(a.file.lastIndexOf('/') + 1)),
  }));
  sink({
    kind: 'backup-rebuilt',
    dir: final,
    date: set.date,
    archives: result.archives.map((a) => a.archive),
    reused: false,
  });
  return result;
}

const WORK_PREFIX = '.ark-disk-recovery-';

async function rebuildArchive(
  file: OffsiteFile,
  o: RebuildOptions & { partial: string; work: string; progress: ProgressReporter },
  result: RebuiltBackup,
): Promise<void> {
  const keys = await o.keysFor(file); // before the download: a wrong key fails here, having fetched nothing
  const cipher = join(o.work, file.name);
  o.sink({
    kind: 'step',
    step: `fetch-${file.archive}`,
    message: `fetching ${file.name} (${file.bytes} bytes) from ${o.remote.target}`,
  });
  const fetching = o.progress.task(`fetch:${file.name}`, `downloading ${file.name}`, {
    bytes: file.bytes,
    files: null,
  });
  result.fetched.push(
    await fetchVerified(
      o.remote,
      file.name,
      cipher,
      { sha256: file.sha256, size: file.bytes },
      { sink: o.sink, ...(o.retry ? { retry: o.retry } : {}), onBytes: (bytes) => fetching.update({ bytes }) },
    ),
  );
  fetching.done({ bytes: file.bytes });
  const target = join(o.partial, file.archiveFile);
  // The plaintext's size is about the ciphertext's (no compression): the bar's total.
  const decrypting = o.progress.task(`decrypt:${file.name}`, `decrypting ${file.name}`, {
    bytes: file.bytes,
    files: null,
  });
  const plain = await decryptFile({
    source: cipher,
    target,
    keys,
    expectedSha256: file.sourceSha256,
    sink: o.sink,
    onBytes: (bytes) => decrypting.update({ bytes }),
  });
  decrypting.done({ bytes: plain.bytes });
  await rm(cipher, { force: true });
  const fingerprint =
    keys.find((k) => plain.keyId !== null && k.info.keyIds.includes(plain.keyId))?.info.fingerprint ?? null;
  result.decrypted.push({
    name: file.name,
    archiveFile: file.archiveFile,
    bytes: plain.bytes,
    sha256: plain.sha256,
    keyId: plain.keyId,
    fingerprint,
  });
  o.sink({
    kind: 'archive-decrypted',
    file: file.archiveFile,
    bytes: plain.bytes,
    sha256: plain.sha256,
    keyId: plain.keyId,
    fingerprint,
  });
  result.archives.push({
    archive: file.archive,
    file: target,
    bytes: plain.bytes,
    sha256: plain.sha256,
    ...(await scanArchive(target)),
  });
}

/** The folder exists: reuse it only if its checksum file lists this set's archives with the manifest's sha256 and they verify. */
async function reuseExisting(dir: string, set: OffsiteSet, sink: EventSink): Promise<RebuiltBackup> {
  const checksumFile = join(dir, checksumFileName(set.date));
  const differs = (why: string) =>
    new ArkError(
      'LOCAL_BACKUP_DIFFERS',
      `${dir} already exists and is not the offsite copy of ${set.date} (${why}); it was left alone. Move it away (or give another --backup-dir) and run again.`,
      { details: { dir } },
    );
  let listed: Map<string, string>;
  try {
    listed = new Map(
      parseChecksumFile(await readFile(checksumFile, 'utf8'), checksumFile).map((e) => [e.name, e.sha256]),
    );
  } catch {
    throw differs(`no readable ${checksumFileName(set.date)}`);
  }
  const files = set.files.filter((f) => f.required || listed.get(f.archiveFile) === f.sourceSha256);
  for (const f of files)
    if (listed.get(f.archiveFile) !== f.sourceSha256)
      throw differs(`${f.archiveFile} is not listed with the sha256 the offsite manifest gives`);
  try {
    assertChecksumsOk(await verifyChecksums(checksumFile, { only: files.map((f) => f.archiveFile) }), checksumFile);
  } catch (error) {
    throw differs(`it does not verify: ${(error as Error).message.replace(/\n\s*/g, ' ')}`);
  }
  const archives: RebuiltArchive[] = [];
  for (const f of files) {
    const path = join(dir, f.archiveFile);
    archives.push({
      archive: f.archive,
      file: path,
      bytes: (await stat(path)).size,
      sha256: f.sourceSha256,
      ...(await scanArchive(path)),
    });
  }
  sink({ kind: 'backup-rebuilt', dir, date: set.date, archives: archives.map((a) => a.archive), reused: true });
  return { date: set.date, dir, checksumFile, archives, fetched: [], decrypted: [], dropped: [], reused: true };
}

/** What a killed run left (its pid is gone): a hidden partial backup or a download folder. */
async function sweepStale(dir: string, prefix: string, sink: EventSink): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(prefix.length))?.[1]);
    if (!Number.isInteger(pid) || processExists(pid)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    sink({
      kind: 'warning',
      code: 'STALE_PARTIAL_REMOVED',
      message: `removed ${name}, left unfinished by a run that was killed`,
    });
  }
}

/** What costs an optional archive its place, not the set: damaged or missing there, or encrypted to other keys. */
function isOptionalDefect(error: unknown): error is ArkError {
  return isArkError(error) && (error.exitCode === 3 || error.exitCode === 2 || error.code === 'REMOTE_NOT_FOUND');
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
