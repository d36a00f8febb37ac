import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism, hostname } from 'node:os';
import { join } from 'node:path';
import {
  assertZstdAvailable,
  measurePlan,
  planArchives,
  resolveTarProducer,
  type ArchivePlan,
  type TarChoice,
} from '../archive/index.ts';
import { buildManifest, formatChecksumFile, isoSeconds, type BackupManifest } from '../checksum/index.ts';
import { ArkError, nameDiskFailure, UsageError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import type { Policy } from '../policy/index.ts';
import { fsyncDir, writeFileAtomic } from '../state/index.ts';
import { readArkaliaVersion, readGitCommit } from './host-facts.ts';
import { withBackupLock } from '../lock/index.ts';
import { pruneAfterBackup, type PruneOutcome } from './prune.ts';
import {
  archiveFileName,
  backupDirName,
  checksumFileName,
  dailyDir,
  manifestFileName,
  partialName,
  pointStamp,
} from '../layout/index.ts';
import {
  archiveFingerprint,
  archiveFrequencyMs,
  chooseArchive,
  isDue,
  readPreviousPoint,
  reuseArchive,
  type ReusedArchive,
} from './reuse-archive.ts';
import { fileIdentity, VerifiedArchives } from './verified-archives.ts';
import { ProgressReporter } from '../progress.ts';
import { publish, removeStalePartials } from './partial-folder.ts';
import { archiveIsSensitive, checkToml, packerPaths, runInOrder, tomlFilesIn, writeArchive } from './write-archive.ts';
import { assertRootFolder } from '../tree/index.ts';

export interface FullBackupOptions {
  root: string;
  backupDir: string;
  /** YYYYMMDD */
  date: string;
  policy: Policy;
  sink: EventSink;
  /** Replace an existing backup of the same date (the old one is kept until the new one is complete). */
  replace?: boolean;
  /**
   * A recovery point rather than the day's backup: named arkalia_<DATE> when the day has no
   * point yet, else arkalia_<DATE>_<HHMM>; only the archives that are due (their data sets'
   * frequency elapsed since their capture) are checked for changes, the others are carried.
   */
  point?: boolean;
  /** Plan and validate only: print what would be archived, write nothing. */
  dryRun?: boolean;
  now?: () => Date;
  host?: string;
  gitCommit?: (root: string) => Promise<string | null>;
  tool?: string;
  /** Wait at most this long for another backup or prune of the same backup folder (default: lib/lock). */
  lockTimeoutMs?: number;
  /** After a successful backup, apply policy.retention under the same lock (see pipeline/prune.ts). */
  prune?: boolean;
  /** Archives written at once (default: cores + 1; the archives are independent). */
  archiveConcurrency?: number;
  /** Who packs the non-live archives (default 'auto': the built-in packer; or 'gnu' / 'node'). */
  tar?: TarChoice;
  /** Milliseconds clock for progress events (default Date.now). */
  clock?: () => number;
}

/**
 * Archives written at once: one per core, plus one, because the largest archive is often disk
 * bound (model weights are stored, not deflated) and overlaps the compression of the others.
 */
const DEFAULT_ARCHIVE_CONCURRENCY = availableParallelism() + 1;

export interface FullBackupReport {
  dir: string;
  /** The point's stamp: YYYYMMDD, or YYYYMMDD_HHMM for a later point of that day. */
  date: string;
  /** null on a dry run. */
  manifest: BackupManifest | null;
  invalidStates: { path: string; reason: string }[];
  replaced: boolean;
  dryRun: boolean;
  /** Present when `prune` was asked and the backup succeeded. */
  prune?: PruneOutcome;
  /** Archives taken from the previous point (same bytes), and whether their data had changed but was not due. */
  reused: ReusedArchive[];
}

/**
 * One backup or prune at a time per backup folder: take its lock, write the backup, then (if
 * asked) prune under the same lock. A dry run writes nothing and takes no lock.
 */
export async function runFullBackup(options: FullBackupOptions): Promise<FullBackupReport> {
  // A disk failure (no space, I/O error…) before the publishing rename: nothing was published.
  const unpublished = (error: unknown) => {
    throw nameDiskFailure(error, 'No backup was published; the earlier backups are untouched.');
  };
  if (options.dryRun) return writeFullBackup(options).catch(unpublished);
  await assertRootFolder(options.root);
  await mkdir(options.backupDir, { recursive: true }).catch(unpublished);
  const timeout = options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs };
  return withBackupLock({ backupDir: options.backupDir, sink: options.sink, ...timeout }, async (lock) => {
    const report = await writeFullBackup(options).catch(unpublished);
    if (!options.prune) return report;
    const { backupDir, sink, policy, now } = options;
    return {
      ...report,
      prune: await pruneAfterBackup({
        lock,
        backupDir,
        date: report.date,
        retention: policy.retention,
        sink,
        ...(now ? { now } : {}),
      }),
    };
  });
}

/**
 * The runbook's ark_full_backup.sh, done right. Everything is written into a hidden partial
 * folder and renamed into place only when complete, so a crash leaves nothing that looks
 * like a backup. Invalid TOML states are archived (they are what is on disk) and reported.
 */
async function writeFullBackup(options: FullBackupOptions): Promise<FullBackupReport> {
  const { root, policy, sink } = options;
  const now = options.now ?? (() => new Date());
  const started = now();
  const daily = dailyDir(options.backupDir);
  if (options.point && options.replace)
    throw new UsageError('--point and --replace cannot be combined: a point never replaces another');
  const date = options.point ? await nextPointStamp(daily, options.date, started) : options.date;
  const finalDir = join(daily, backupDirName(date));

  // 1. Clear what crashed runs left, then refuse to clobber a backup of the same date unless asked to.
  await assertRootFolder(root);
  await resolveTarProducer(options.tar); // a packer asked for and missing: refused before anything is written
  if (options.dryRun) return planOnly({ ...options, date }, finalDir); // a point's own stamp
  await mkdir(daily, { recursive: true });
  await removeStalePartials(daily, date, finalDir, sink);
  const exists = await stat(finalDir).then(
    () => true,
    () => false,
  );
  if (exists && options.point) {
    throw new ArkError(
      'BACKUP_EXISTS',
      `a recovery point for ${date} already exists: ${finalDir}. Points are named by the minute: run again in a minute.`,
    );
  }
  if (exists && !options.replace) {
    throw new ArkError(
      'BACKUP_EXISTS',
      `a backup for ${date} already exists: ${finalDir}. Pass --replace to replace it (the old one is kept until the new one is complete), --point for a later recovery point of that day, or --date for another date.`,
    );
  }

  // 2. Write into a fresh hidden partial folder beside the final one.
  const partial = join(daily, partialName(date, process.pid, Date.now()));
  await mkdir(partial);
  try {
    // 3. Plan and size every archive (lstat only, for progress), then write them, several at a time.
    const plans = await planArchives(policy, root);
    await assertZstdAvailable(plans.filter((p) => p.compression === 'zstd' && p.paths.length > 0).map((p) => p.name));
    const skipped: { archive: string; path: string; reason: string }[] = [];
    for (const plan of plans) {
      for (const [path, reason] of skippedOf(plan)) {
        skipped.push({ archive: plan.name, path, reason });
        sink({ kind: 'dataset-skipped', archive: plan.name, path, reason });
      }
    }
    const work = plans.filter((plan) => plan.paths.length > 0);
    if (work.length === 0)
      throw new ArkError('BACKUP_EMPTY', `nothing to back up under ${root}: no path of the policy exists there`);
    const sizes = await Promise.all(work.map((plan) => measurePlan(plan.cwd, packerPaths(plan, root))));

    // 4. Si modifiés: each archive is reused from the previous point when its members did not
    // change (or, for a point, when it is not due yet), once that archive is verified.
    const previous = await readPreviousPoint(options.backupDir, date);
    const verified = await VerifiedArchives.load(options.backupDir);
    const capturedAt = isoSeconds(started);
    const choices = await Promise.all(
      work.map(async (plan, i) => {
        const sensitive = await archiveIsSensitive(plan);
        const fingerprint = archiveFingerprint(plan, sizes[i]!.fingerprint, sensitive);
        const entry = previous?.manifest.archives?.find((a) => a.name === plan.name);
        const due = !options.point || isDue(archiveFrequencyMs(policy, plan.name), entry?.captured_at, started);
        return {
          sensitive,
          fingerprint,
          choice: await chooseArchive({ plan, fingerprint, due, previous, sink, verified, now: started }),
        };
      }),
    );
    const progress = new ProgressReporter({
      sink,
      totalBytes: sizes.reduce((sum, size, i) => sum + (choices[i]!.choice.action === 'write' ? size.tarBytes : 0), 0),
      ...(options.clock ? { now: options.clock } : {}),
    });
    const invalidStates: { path: string; reason: string; archive: string }[] = [];
    const reused: FullBackupReport['reused'] = [];
    const archives = await runInOrder(
      work,
      options.archiveConcurrency ?? DEFAULT_ARCHIVE_CONCURRENCY,
      async (plan, i) => {
        const { sensitive, fingerprint, choice } = choices[i]!;
        if (choice.action === 'reuse') {
          const { entry, report } = await reuseArchive({
            plan,
            choice,
            previous: previous!,
            stamp: date,
            partial,
            capturedAt,
            fingerprint,
            verified,
            invalidStates,
            sink,
          });
          reused.push(report);
          return entry;
        }
        sink({
          kind: 'step',
          step: `archive-${plan.name}`,
          message: `archiving ${plan.name}${choice.why === 'changed' ? ' (changed since the previous point)' : ''}: ${plan.paths.join(' ')}`,
        });
        try {
          const written = await writeArchive({
            plan,
            partial,
            date,
            policy,
            root,
            sink,
            invalidStates,
            size: sizes[i]!,
            progress,
            sensitive,
            capturedAt,
            fingerprint,
            verified,
            knownInvalid: new Map((previous?.manifest.invalid_states ?? []).map((i) => [i.path, i.reason])),
            ...(choice.base ? { base: choice.base } : {}),
            ...(options.tar ? { tar: options.tar } : {}),
          });
          // Hashed while written: the next point may link it without reading it again today.
          verified.record(await fileIdentity(join(partial, written.file)), written.sha256, started);
          return written;
        } catch (error) {
          throw archiveFailed(plan, date, error);
        }
      },
    );

    const order = work.map((plan) => plan.name);
    reused.sort((a, b) => order.indexOf(a.archive) - order.indexOf(b.archive)); // policy order, as the archives run at once

    // 5. Checksums in `sha256sum -c` format, then the manifest.
    sink({ kind: 'step', step: 'checksums', message: 'writing checksums and manifest' });
    const checksumText = formatChecksumFile(
      [...archives].sort((a, b) => a.file.localeCompare(b.file)).map((a) => ({ sha256: a.sha256, name: a.file })),
    );
    await writeFileAtomic(join(partial, checksumFileName(date)), checksumText);
    const manifest = buildManifest({
      date,
      now: started,
      arkaliaVersion: await readArkaliaVersion(root),
      gitCommit: await (options.gitCommit ?? readGitCommit)(root),
      host: options.host ?? hostname(),
      archives,
      otherBytes: Buffer.byteLength(checksumText),
      otherFiles: 1,
      invalidStates,
      skipped,
      tool: options.tool ?? 'arkalia-dr',
      ...(date.length > 8 ? { backupType: 'full_point' } : {}),
    });
    await writeFileAtomic(join(partial, manifestFileName(date)), `${JSON.stringify(manifest, null, 2)}\n`);

    // 6. Publish atomically (the old same-date backup, if replaced, goes only after).
    await fsyncDir(partial);
    await publish(partial, finalDir, exists);
    sink({ kind: 'backup-published', dir: finalDir, date });
    await verified.save(options.backupDir).catch((error: unknown) =>
      sink({
        kind: 'warning',
        code: 'VERIFIED_RECORD_UNWRITABLE',
        message: `cannot record which archives were verified (${(error as Error).message}): the next backup hashes them again`,
      }),
    );
    return { dir: finalDir, date, manifest, invalidStates, replaced: exists, dryRun: false, reused };
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}

/** What a plan leaves out, and why: patterns that matched nothing, links never followed. */
function skippedOf(plan: ArchivePlan): [path: string, reason: string][] {
  return [
    ...plan.unmatched.map((p): [string, string] => [p, 'not present']),
    ...plan.links.map((l): [string, string] => [l.path, `a link (to ${l.target}): never followed, not archived`]),
  ];
}

/** --dry-run: what each archive would hold and which states are invalid; nothing is written. */
async function planOnly(options: FullBackupOptions, finalDir: string): Promise<FullBackupReport> {
  const { root, policy, sink, date } = options;
  const exists = await stat(finalDir).then(
    () => true,
    () => false,
  );
  const invalidStates: { path: string; reason: string }[] = [];
  for (const plan of await planArchives(policy, root)) {
    for (const [path, reason] of skippedOf(plan)) sink({ kind: 'dataset-skipped', archive: plan.name, path, reason });
    if (plan.paths.length === 0) continue;
    const compression =
      plan.compression === 'gzip'
        ? `gzip ${plan.gzipLevel}`
        : plan.compression === 'zstd'
          ? `zstd ${plan.zstdLevel}`
          : 'uncompressed';
    sink({
      kind: 'dry-run',
      message: `would write ${archiveFileName(plan.prefix, date, plan.compression)} (${plan.sensitive ? 'mode 0600, ' : ''}${compression}): ${plan.paths.join(' ')}`,
    });
    if (plan.cwd !== root) continue;
    for (const path of [...(await tomlFilesIn(policy, root, plan.paths))].sort()) {
      checkToml(path, await readFile(join(root, path)), (p, reason) => {
        invalidStates.push({ path: p, reason });
        sink({ kind: 'invalid-state', path: p, reason });
      });
    }
  }
  if (exists)
    sink({
      kind: 'dry-run',
      message: `${finalDir} already exists: ${options.replace ? 'it would be replaced' : 'the run would stop (pass --replace)'}`,
    });
  sink({ kind: 'dry-run', message: `would publish ${finalDir}` });
  return { dir: finalDir, date, manifest: null, invalidStates, replaced: false, dryRun: true, reused: [] };
}

/** An unreadable file (EACCES, a FIFO, a big file that shrank while it was streamed) fails the whole backup, by name. */
function archiveFailed(plan: ArchivePlan, date: string, error: unknown): ArkError {
  if (error instanceof ArkError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new ArkError(
    'ARCHIVE_FAILED',
    `cannot write ${archiveFileName(plan.prefix, date, plan.compression)} (${plan.name}): ${reason}. Nothing was published; fix the file or the policy and run again.`,
    {
      cause: error,
      details: { archive: plan.name },
    },
  );
}

/** A point's stamp: the day's first point is arkalia_<DATE>, a later one arkalia_<DATE>_<HHMM>. */
async function nextPointStamp(daily: string, date: string, now: Date): Promise<string> {
  const first = await stat(join(daily, backupDirName(date))).then(
    () => false,
    () => true,
  );
  return first ? date : pointStamp(date, now);
}
