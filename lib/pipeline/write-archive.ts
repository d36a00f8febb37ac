import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { escapePath, glob } from 'tinyglobby';
import {
  createArchive,
  isInFlightTemp,
  planSegments,
  resolveTarProducer,
  type ArchivePlan,
  type ArchiveProgress,
  type ArchiveResult,
  type PlanSize,
  type TarChoice,
} from '../archive/index.ts';
import type { ManifestArchive, SegmentIndex } from '../checksum/index.ts';
import { archiveFileName } from '../layout/index.ts';
import type { EventSink } from '../events.ts';
import type { Policy } from '../policy/index.ts';
import { TomlCheckPool, validateToml } from '../state/index.ts';
import type { ProgressReporter } from '../progress.ts';
import { tomlKey, type VerifiedArchives } from './verified-archives.ts';
import { expandNoFollow, pathMatcher } from '../tree/index.ts';

// One archive of a full backup (pipeline/backup.ts step 3), and the scheduler that writes
// the independent archives several at a time.

/** Archives holding real-time data sets: services rewrite these files while we read them. */
function holdsLiveState(policy: Policy, archive: string): boolean {
  return Object.values(policy.datasets).some((d) => d.archive === archive && d.frequency === 'realtime');
}

export interface ArchiveJob {
  plan: ArchivePlan;
  partial: string;
  date: string;
  policy: Policy;
  root: string;
  sink: EventSink;
  /** Shared by all archives: invalid state files found so far. */
  invalidStates: { path: string; reason: string; archive: string }[];
  size: PlanSize;
  progress: ProgressReporter;
  tar?: TarChoice;
  /** From archiveIsSensitive. */
  sensitive: boolean;
  /** The point's recovery point and the members' fingerprint, recorded in the manifest. */
  capturedAt: string;
  fingerprint: string;
  /** State contents already known to parse (by sha256): not parsed again. */
  verified?: VerifiedArchives;
  /** The previous point's invalid states (path → reason): one still invalid for the same reason is reported as known. */
  knownInvalid?: ReadonlyMap<string, string>;
  /** The previous archive, verified, and its runs: the runs that did not change are copied from it. */
  base?: { file: string; index: SegmentIndex };
}

/** The paths the packer is given (and the plan's walk lstats): under the root without a trailing "/", so a folder replaced by a link is packed as the link, never followed; a data set given as an absolute path (models) as given. */
export function packerPaths(plan: ArchivePlan, root: string): string[] {
  return plan.cwd === root ? plan.paths.map((p) => p.replace(/\/+$/, '')) : [...plan.paths];
}

/** Mode 0600: the policy says so, or it holds a .env (never written world-readable, whatever archive a policy puts it in). */
export async function archiveIsSensitive(plan: ArchivePlan): Promise<boolean> {
  return plan.sensitive || (await holdsSecretFile(plan.cwd, plan.paths));
}

/**
 * One archive. Live state (real-time data sets) is read once per file by our own packer and
 * validated from the very bytes archived. Other data sets are packed by the same packer (or
 * GNU tar / node-tar when asked: see archive/tar-producer.ts); the TOML files among them are
 * validated from disk.
 */
export async function writeArchive(job: ArchiveJob): Promise<ManifestArchive> {
  const { plan, root, policy, sink, sensitive } = job;
  const file = archiveFileName(plan.prefix, job.date, plan.compression);
  const live = holdsLiveState(policy, plan.name);
  // The TOML files the policy validates, among the files the plan's walk found (no second walk).
  const validated = pathMatcher(policy.validation.toml, { dot: true });
  const toValidate = new Set(plan.cwd === root ? job.size.paths.filter(validated) : []);
  const report = (path: string, reason: string) => {
    job.invalidStates.push({ path, reason, archive: plan.name });
    sink({ kind: 'invalid-state', path, reason, ...(job.knownInvalid?.get(path) === reason ? { known: true } : {}) });
  };
  if (!live) for (const path of [...toValidate].sort()) checkToml(path, await readFile(join(root, path)), report);
  const task = job.progress.task(`archive:${plan.name}`, file, { bytes: job.size.tarBytes, files: job.size.files });
  let last: ArchiveProgress = { bytesIn: 0, bytesOut: 0, files: 0 };
  const checker = live ? new TomlCheckPool() : null;
  const parsed = new Map<string, string>(); // member -> tomlKey of the bytes sent to the parser (to remember the valid ones)
  // gzip archives from our own packer are written in runs (archive/segments.ts): a point copies
  // the runs whose members did not change from the previous archive, and reads only the rest.
  const inRuns =
    plan.compression === 'gzip' && job.size.complete && (live || (await resolveTarProducer(job.tar)) === 'builtin');
  const runs = inRuns
    ? planSegments(
        live
          ? job.size.members.filter((m) => m.given !== undefined || !isInFlightTemp(basename(m.name)))
          : job.size.members,
        job.base?.index ?? null,
        plan.gzipLevel,
      )
    : null;
  let result: ArchiveResult;
  try {
    result = await createArchive({
      cwd: plan.cwd,
      paths: packerPaths(plan, root),
      ...(runs ? { segments: { plan: runs, previous: job.base?.file ?? null } } : {}),
      file: join(job.partial, file),
      compression: plan.compression,
      gzipLevel: plan.gzipLevel,
      zstdLevel: plan.zstdLevel,
      mode: sensitive ? 0o600 : 0o644,
      ...(job.tar ? { tar: job.tar } : {}),
      ...(checker
        ? {
            live: {
              onFile: (member: string, content: Buffer | null) => {
                if (!toValidate.has(member)) return;
                if (content !== null && job.verified) {
                  const key = tomlKey(content);
                  if (job.verified.knownValidToml(key)) return; // these very bytes parsed before
                  parsed.set(member, key);
                }
                checker.check(member, content, `larger than ${MAX_VALIDATED_MIB} MiB: archived, not validated`);
                return checker.below(MAX_PENDING_VALIDATION);
              },
            },
          }
        : {}),
      onProgress: (p) => {
        last = p;
        task.update({ bytes: p.bytesIn, files: p.files, bytesOut: p.bytesOut });
      },
    });
    const invalid = (await checker?.finish()) ?? [];
    for (const bad of invalid) report(bad.path, bad.reason);
    if (result.copied && result.copied.runs > 0) {
      // Copied members were not read: those that did not parse are still the same bytes, known.
      job.verified?.keepKnownValidToml();
      const copied = new Set(runs!.flatMap((run) => (run.reuse ? run.members.map((m) => m.name) : [])));
      for (const [path, reason] of job.knownInvalid ?? [])
        if (copied.has(path) && toValidate.has(path)) report(path, reason);
    }
    const rejected = new Set(invalid.map((bad) => bad.path));
    for (const [member, key] of parsed) if (!rejected.has(member)) job.verified?.recordValidToml(key);
  } finally {
    await checker?.close();
  }
  task.done({ bytes: result.tarBytes, files: last.files, bytesOut: result.bytes });
  sink({
    kind: 'archive-written',
    archive: plan.name,
    file,
    bytes: result.bytes,
    members: result.members,
    sha256: result.sha256,
    ...(result.copied && result.copied.runs > 0 && job.base
      ? {
          copied: {
            ...result.copied,
            of: result.segments!.runs.length - 1, // the end of the archive is not a run of members
            from: basename(job.base.file),
          },
        }
      : {}),
  });
  return {
    name: plan.name,
    file,
    sha256: result.sha256,
    size_bytes: result.bytes,
    members: result.members,
    tar_bytes: result.tarBytes,
    sensitive,
    captured_at: job.capturedAt,
    fingerprint: job.fingerprint,
    ...(result.segments ? { segments: result.segments } : {}),
  };
}

/** The TOML files the policy validates, among those this archive holds (relative to the root). */
export async function tomlFilesIn(policy: Policy, root: string, archived: readonly string[]): Promise<Set<string>> {
  const files = policy.validation.toml.flatMap((pattern) => expandNoFollow(root, pattern, { dot: true }).matches); // never through a link
  return new Set(files.filter((f) => archived.some((p) => p === f || (p.endsWith('/') && f.startsWith(p)))));
}

export function checkToml(path: string, content: Buffer | null, report: (path: string, reason: string) => void): void {
  if (content === null) return report(path, `larger than ${MAX_VALIDATED_MIB} MiB: archived, not validated`);
  const check = validateToml(content);
  if (!check.ok) report(path, check.reason);
}

const MAX_VALIDATED_MIB = 64;
/** State bytes read but not yet validated: packing waits above this (memory stays flat). */
const MAX_PENDING_VALIDATION = 4 * 1024 * 1024;

/**
 * Run `work` on each item, at most `concurrency` at a time, started in order; results in
 * item order. After a failure nothing new starts, the ones running finish (their archives
 * are complete, and named), and the first error is thrown.
 */
export async function runInOrder<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async () => {
    while (failure === null && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  if (failure !== null) throw (failure as { error: unknown }).error;
  return results;
}

const SECRET_FILE = /^\.env(\..+)?$/;

async function holdsSecretFile(cwd: string, paths: readonly string[]): Promise<boolean> {
  if (paths.some((p) => SECRET_FILE.test(basename(p)))) return true;
  const inside = await glob(
    paths.map((p) => `${escapePath(p.replace(/\/+$/, ''))}/**/.env*`),
    { cwd, dot: true, onlyFiles: true },
  );
  return inside.some((f) => SECRET_FILE.test(basename(f)));
}
