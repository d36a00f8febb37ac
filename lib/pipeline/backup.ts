import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
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
import { buildManifest, formatChecksumFile, type BackupManifest } from '../checksum/index.ts';
import { ArkError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import type { Policy } from '../policy/index.ts';
import { fsyncDir, writeFileAtomic } from '../state/index.ts';
import { readArkaliaVersion, readGitCommit } from './host-facts.ts';
import { processExists, withBackupLock } from '../lock/index.ts';
import { pruneAfterBackup, type PruneOutcome } from './prune.ts';
import {
  archiveFileName,
  backupDirName,
  checksumFileName,
  dailyDir,
  manifestFileName,
  partialName,
  partialOwner,
  partialPrefix,
} from '../layout/index.ts';
import { ProgressReporter } from './progress-reporter.ts';
import { checkToml, runInOrder, tomlFilesIn, writeArchive } from './write-archive.ts';
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
  date: string;
  /** null on a dry run. */
  manifest: BackupManifest | null;
  invalidStates: { path: string; reason: string }[];
  replaced: boolean;
  dryRun: boolean;
  /** Present when `prune` was asked and the backup succeeded. */
  prune?: PruneOutcome;
}

/**
 * One backup or prune at a time per backup folder: take its lock, write the backup, then (if
 * asked) prune under the same lock. A dry run writes nothing and takes no lock.
 */
export async function runFullBackup(options: FullBackupOptions): Promise<FullBackupReport> {
  if (options.dryRun) return writeFullBackup(options);
  await assertRootFolder(options.root);
  await mkdir(options.backupDir, { recursive: true });
  const timeout = options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs };
  return withBackupLock({ backupDir: options.backupDir, sink: options.sink, ...timeout }, async (lock) => {
    const report = await writeFullBackup(options);
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
  const { root, policy, sink, date } = options;
  const now = options.now ?? (() => new Date());
  const daily = dailyDir(options.backupDir);
  const finalDir = join(daily, backupDirName(date));

  // 1. Clear what crashed runs left, then refuse to clobber a backup of the same date unless asked to.
  await assertRootFolder(root);
  await resolveTarProducer(options.tar); // a packer asked for and missing: refused before anything is written
  if (options.dryRun) return planOnly(options, finalDir);
  await mkdir(daily, { recursive: true });
  await removeStalePartials(daily, date, finalDir, sink);
  const exists = await stat(finalDir).then(
    () => true,
    () => false,
  );
  if (exists && !options.replace) {
    throw new ArkError(
      'BACKUP_EXISTS',
      `a backup for ${date} already exists: ${finalDir}. Pass --replace to replace it (the old one is kept until the new one is complete), or --date for another date.`,
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
    const sizes = await Promise.all(work.map((plan) => measurePlan(plan.cwd, plan.paths)));
    const progress = new ProgressReporter({
      sink,
      totalBytes: sizes.reduce((sum, size) => sum + size.tarBytes, 0),
      ...(options.clock ? { now: options.clock } : {}),
    });
    const invalidStates: { path: string; reason: string }[] = [];
    const archives = await runInOrder(
      work,
      options.archiveConcurrency ?? DEFAULT_ARCHIVE_CONCURRENCY,
      async (plan, i) => {
        sink({
          kind: 'step',
          step: `archive-${plan.name}`,
          message: `archiving ${plan.name}: ${plan.paths.join(' ')}`,
        });
        try {
          return await writeArchive({
            plan,
            partial,
            date,
            policy,
            root,
            sink,
            invalidStates,
            size: sizes[i]!,
            progress,
            ...(options.tar ? { tar: options.tar } : {}),
          });
        } catch (error) {
          throw archiveFailed(plan, date, error);
        }
      },
    );

    // 4. Checksums in `sha256sum -c` format, then the manifest.
    sink({ kind: 'step', step: 'checksums', message: 'writing checksums and manifest' });
    const checksumText = formatChecksumFile(
      [...archives].sort((a, b) => a.file.localeCompare(b.file)).map((a) => ({ sha256: a.sha256, name: a.file })),
    );
    await writeFileAtomic(join(partial, checksumFileName(date)), checksumText);
    const manifest = buildManifest({
      date,
      now: now(),
      arkaliaVersion: await readArkaliaVersion(root),
      gitCommit: await (options.gitCommit ?? readGitCommit)(root),
      host: options.host ?? hostname(),
      archives,
      otherBytes: Buffer.byteLength(checksumText),
      otherFiles: 1,
      invalidStates,
      skipped,
      tool: options.tool ?? 'arkalia-dr',
    });
    await writeFileAtomic(join(partial, manifestFileName(date)), `${JSON.stringify(manifest, null, 2)}\n`);

    // 5. Publish atomically (the old same-date backup, if replaced, goes only after).
    await fsyncDir(partial);
    await publish(partial, finalDir, exists);
    sink({ kind: 'backup-published', dir: finalDir, date });
    return { dir: finalDir, date, manifest, invalidStates, replaced: exists, dryRun: false };
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
  return { dir: finalDir, date, manifest: null, invalidStates, replaced: false, dryRun: true };
}

/** An unreadable file (EACCES, a FIFO, a file that shrank) fails the whole backup, by name. */
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

async function publish(partial: string, finalDir: string, replacing: boolean): Promise<void> {
  if (!replacing) {
    await rename(partial, finalDir); // fails (ENOTEMPTY/EEXIST) rather than clobber a backup that appeared meanwhile
  } else {
    const aside = `${partial}.replaced`;
    await rename(finalDir, aside);
    try {
      await rename(partial, finalDir);
    } catch (error) {
      await rename(aside, finalDir);
      throw error;
    }
    await rm(aside, { recursive: true, force: true });
  }
  await fsyncDir(join(finalDir, '..'));
}

async function removeStalePartials(daily: string, date: string, finalDir: string, sink: EventSink): Promise<void> {
  for (const name of (await readdir(daily)).sort()) {
    if (!name.startsWith(partialPrefix(date))) continue;
    const pid = partialOwner(name);
    if (pid !== null && pid !== process.pid && processExists(pid)) continue;
    // A --replace run that died between its two renames: the set-aside old backup is the only one.
    if (
      name.endsWith('.replaced') &&
      !(await stat(finalDir).then(
        () => true,
        () => false,
      ))
    ) {
      await rename(join(daily, name), finalDir);
      await fsyncDir(daily);
      sink({
        kind: 'warning',
        code: 'REPLACED_BACKUP_RESTORED',
        message: `restored ${backupDirName(date)} from ${name}, set aside by a --replace run that crashed`,
      });
      continue;
    }
    await rm(join(daily, name), { recursive: true, force: true });
    sink({
      kind: 'warning',
      code: 'STALE_PARTIAL_REMOVED',
      message: `removed an unfinished backup left by a crashed run: ${name}`,
    });
  }
}
