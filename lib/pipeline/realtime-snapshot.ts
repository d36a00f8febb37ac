import { EXIT, nameDiskFailure, toArkError, type ExitCode } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { parseDuration, type Policy } from '../policy/index.ts';
import {
  compileStatePatterns,
  pruneSnapshots,
  readInvalidRecord,
  realTimers,
  describeSkippedLink,
  scanStatePatterns,
  SnapshotCatalog,
  takeSnapshot,
  watchStateFiles,
  writeInvalidRecord,
  type SnapshotOutcome,
  type StatePatterns,
  type Timers,
  type WatchDir,
} from '../snapshot/index.ts';
import { assertRootFolder } from '../tree/index.ts';

export interface RealtimeSnapshotOptions {
  root: string;
  backupDir: string;
  policy: Policy;
  sink: EventSink;
  /** Read, validate and compare; print what would be written and pruned; write nothing. */
  dryRun?: boolean;
  now?: () => Date;
}

/** Counts for the operator, --json and metrics (snapshots written, bytes, invalid, duration). */
export interface SnapshotTotals {
  written: number;
  bytesWritten: number;
  unchanged: number;
  invalid: number;
  failed: number;
  pruned: number;
}

export interface RealtimeSnapshotReport {
  totals: SnapshotTotals;
  written: { path: string; snapshot: string; bytes: number; sha256: string }[];
  invalid: { path: string; reason: string }[];
  /** Of `invalid`, those the previous pass did not report (or for another reason). */
  newlyInvalid: { path: string; reason: string }[];
  failed: { path: string; code: string; message: string }[];
  pruned: string[];
  startedAt: Date;
  durationMs: number;
  dryRun: boolean;
}

/**
 * One pass of the runbook's ark_realtime_snapshot.sh: snapshot every valid state file that
 * changed since its newest snapshot, report the invalid ones by name (never snapshotted),
 * then prune past the policy's window. A file that cannot be written (disk full) is
 * reported and the others are still tried. Idempotent: a second run writes nothing new.
 */
export async function runRealtimeSnapshot(options: RealtimeSnapshotOptions): Promise<RealtimeSnapshotReport> {
  // A disk failure (I/O error, no space…) is named with what this pass had done.
  const phase = { changed: 'No snapshot was written by this pass.' };
  return snapshotPass(options, phase).catch((error: unknown) => {
    throw nameDiskFailure(error, phase.changed);
  });
}

async function snapshotPass(
  options: RealtimeSnapshotOptions,
  phase: { changed: string },
): Promise<RealtimeSnapshotReport> {
  const { root, backupDir, sink } = options;
  const now = options.now ?? (() => new Date());
  const dryRun = options.dryRun ?? false;
  const startedAt = now();
  const report: RealtimeSnapshotReport = {
    totals: emptyTotals(),
    written: [],
    invalid: [],
    newlyInvalid: [],
    failed: [],
    pruned: [],
    startedAt,
    durationMs: 0,
    dryRun,
  };
  const reported = await readInvalidRecord(backupDir);

  // 1. Which files: the policy's real-time paths under the root.
  await assertRootFolder(root);
  const patterns = compileStatePatterns(options.policy.realtime.paths);
  const { files, links } = await scanStatePatterns(root, patterns);
  for (const link of links)
    sink({ kind: 'warning', code: 'STATE_LINK_SKIPPED', message: describeSkippedLink(link), path: link.path });
  sink({
    kind: 'step',
    step: 'snapshot',
    message: `${dryRun ? 'checking' : 'snapshotting'} ${files.length} state file(s) of ${root} → ${backupDir}/realtime`,
  });

  // 2. Snapshot each one (read once, validate, dedup, temp + fsync + link).
  const catalog = new SnapshotCatalog(backupDir);
  const tally: Tally = { ...report, known: reported };
  for (const path of files) {
    await snapshotOne({ root, backupDir, path, catalog, now, dryRun }, sink, tally);
  }
  report.newlyInvalid = report.invalid.filter((i) => reported.get(i.path) !== i.reason);
  if (!dryRun)
    await writeInvalidRecord(backupDir, reported, report.invalid).catch((error: Error) =>
      sink({
        kind: 'warning',
        code: 'INVALID_RECORD_NOT_WRITTEN',
        message: `could not record which state files are invalid (${error.message}): the next pass reports them as new`,
      }),
    );

  // 3. Prune past the window, the newest snapshot of each file always kept.
  phase.changed = `This pass's ${report.written.length} snapshot(s) were written; only pruning older ones stopped.`;
  await prune({ backupDir, patterns, keep: options.policy.realtime.keep, now, dryRun }, sink, report);
  report.durationMs = now().getTime() - startedAt.getTime();
  return report;
}

/** 1 when a snapshot could not be written, else 3 when a state file is invalid, else 0. */
export function realtimeExitCode(report: Pick<RealtimeSnapshotReport, 'totals'>): ExitCode {
  if (report.totals.failed > 0) return EXIT.failed;
  if (report.totals.invalid > 0) return EXIT.integrity;
  return EXIT.ok;
}

export interface WatchRealtimeOptions extends Omit<RealtimeSnapshotOptions, 'dryRun'> {
  /** A burst of writes gives one snapshot, this long after the last write. */
  debounceMs: number;
  /** …but a file rewritten non-stop is still snapshotted at least this often. */
  maxWaitMs: number;
  /** Full re-scan period (lost fs events, new folders on file systems without events). */
  rescanMs: number;
  /** How often to prune while watching (default: hourly). */
  pruneEveryMs?: number;
  watch?: WatchDir;
  timers?: Timers;
}

export interface RealtimeWatchReport {
  totals: SnapshotTotals;
  /** State files invalid when last looked at. */
  invalid: { path: string; reason: string }[];
  startedAt: Date;
  durationMs: number;
}

export interface RealtimeWatchSession {
  /** Folders watched now, relative to the root. */
  dirs(): string[];
  /** State files invalid as last seen (invalid when last read, not snapshotted since). */
  invalidCount(): number;
  /** Stop: pending changes are snapshotted, the in-flight snapshot finishes, then the totals. */
  stop(): Promise<RealtimeWatchReport>;
}

/**
 * --watch: one full pass at start, then each state file is snapshotted shortly after it
 * changes (debounced per file), with a periodic re-scan and an hourly prune. Problems with
 * single files (invalid, disk full) are reported as events and the watch goes on: it is a
 * daemon, and the next change or re-scan tries again.
 */
export async function watchRealtimeSnapshots(options: WatchRealtimeOptions): Promise<RealtimeWatchSession> {
  const { root, backupDir, sink } = options;
  const now = options.now ?? (() => new Date());
  const timers = options.timers ?? realTimers;
  const startedAt = now();
  await assertRootFolder(root);
  const patterns = compileStatePatterns(options.policy.realtime.paths);
  const catalog = new SnapshotCatalog(backupDir);
  const totals = emptyTotals();
  const invalidNow = new Map<string, string>();
  const tally: Tally = { totals, invalidNow, watching: true };

  // Snapshots and prunes take turns: one at a time, never overlapping.
  let turn: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(task: () => Promise<T>): Promise<T> => {
    const result = turn.then(task);
    turn = result.catch(() => {});
    return result;
  };
  const pruneNow = () =>
    exclusive(async () => {
      await prune({ backupDir, patterns, keep: options.policy.realtime.keep, now, dryRun: false }, sink, tally);
      catalog.forget(); // listings only grow while watching; start them afresh
    }).catch((error: unknown) =>
      sink({ kind: 'warning', code: 'PRUNE_FAILED', message: `pruning failed: ${toArkError(error).message}` }),
    );

  // 1. Watch, then one full pass over every state file.
  const watcher = await watchStateFiles({
    root,
    patterns,
    debounceMs: options.debounceMs,
    maxWaitMs: options.maxWaitMs,
    rescanMs: options.rescanMs,
    onSettled: (path) =>
      exclusive(() => snapshotOne({ root, backupDir, path, catalog, now, dryRun: false }, sink, tally)),
    onWarning: (code, message) => sink({ kind: 'warning', code, message }),
    timers,
    ...(options.watch ? { watch: options.watch } : {}),
  });
  sink({
    kind: 'step',
    step: 'watch',
    message: `watching ${watcher.dirs().length} folder(s) of ${root} (debounce ${options.debounceMs} ms, re-scan every ${options.rescanMs} ms)`,
  });

  // 2. Prune now and then.
  await pruneNow();
  let pruneTimer: unknown = null;
  let ending = false;
  const schedulePrune = () => {
    if (ending) return;
    pruneTimer = timers.setTimeout(() => {
      void pruneNow().then(schedulePrune);
    }, options.pruneEveryMs ?? 3_600_000);
  };
  schedulePrune();

  let stopped: Promise<RealtimeWatchReport> | null = null;
  return {
    dirs: () => watcher.dirs(),
    invalidCount: () => invalidNow.size,
    stop() {
      stopped ??= (async () => {
        ending = true;
        timers.clearTimeout(pruneTimer);
        await watcher.stop();
        await turn;
        const invalid = [...invalidNow]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([path, reason]) => ({ path, reason }));
        return { totals, invalid, startedAt, durationMs: now().getTime() - startedAt.getTime() };
      })();
      return stopped;
    },
  };
}

// --- steps shared by the one-shot run and the watch

interface Tally {
  totals: SnapshotTotals;
  written?: RealtimeSnapshotReport['written'];
  invalid?: RealtimeSnapshotReport['invalid'];
  failed?: RealtimeSnapshotReport['failed'];
  pruned?: string[];
  invalidNow?: Map<string, string>;
  watching?: boolean;
  /** path → reason the previous one-shot pass reported as invalid. */
  known?: ReadonlyMap<string, string>;
}

async function snapshotOne(target: Parameters<typeof takeSnapshot>[0], sink: EventSink, tally: Tally): Promise<void> {
  let outcome: SnapshotOutcome;
  try {
    outcome = await takeSnapshot(target);
  } catch (error) {
    const e = toArkError(error);
    tally.totals.failed += 1;
    tally.failed?.push({ path: target.path, code: e.code, message: e.message });
    sink({ kind: 'snapshot-failed', path: target.path, code: e.code, message: e.message });
    return;
  }
  if (outcome.status !== 'invalid') tally.invalidNow?.delete(outcome.path);
  switch (outcome.status) {
    case 'written':
      tally.totals.written += 1;
      tally.totals.bytesWritten += outcome.bytes;
      tally.written?.push({
        path: outcome.path,
        snapshot: outcome.snapshot,
        bytes: outcome.bytes,
        sha256: outcome.sha256,
      });
      sink({
        kind: 'snapshot-written',
        path: outcome.path,
        snapshot: outcome.snapshot,
        bytes: outcome.bytes,
        sha256: outcome.sha256,
      });
      return;
    case 'would-write':
      tally.totals.written += 1;
      tally.totals.bytesWritten += outcome.bytes;
      tally.written?.push({
        path: outcome.path,
        snapshot: outcome.snapshot,
        bytes: outcome.bytes,
        sha256: outcome.sha256,
      });
      sink({ kind: 'dry-run', detail: true, message: `would snapshot ${outcome.path} → ${outcome.snapshot}` });
      return;
    case 'unchanged':
      tally.totals.unchanged += 1;
      // While watching, a service rewriting the same bytes would flood the log: counted only.
      if (!tally.watching) sink({ kind: 'snapshot-unchanged', path: outcome.path, snapshot: outcome.snapshot });
      return;
    case 'invalid':
      tally.totals.invalid += 1;
      tally.invalid?.push({ path: outcome.path, reason: outcome.reason });
      tally.invalidNow?.set(outcome.path, outcome.reason);
      sink({
        kind: 'invalid-state',
        path: outcome.path,
        reason: outcome.reason,
        ...(tally.known?.get(outcome.path) === outcome.reason ? { known: true } : {}),
      });
      return;
    case 'skipped':
      sink({
        kind: 'warning',
        code: 'STATE_FILE_SKIPPED',
        message: `${outcome.path}: ${outcome.reason}, not snapshotted`,
        path: outcome.path,
      });
      return;
  }
}

async function prune(
  options: { backupDir: string; patterns: StatePatterns; keep: string; now: () => Date; dryRun: boolean },
  sink: EventSink,
  tally: Tally,
): Promise<void> {
  const result = await pruneSnapshots({
    backupDir: options.backupDir,
    patterns: options.patterns,
    keepMs: parseDuration(options.keep),
    now: options.now,
    dryRun: options.dryRun,
  });
  for (const ref of result.removed) {
    tally.totals.pruned += 1;
    tally.pruned?.push(ref.rel);
    if (options.dryRun) sink({ kind: 'dry-run', message: `would prune ${ref.rel} (older than ${options.keep})` });
    else sink({ kind: 'snapshot-pruned', snapshot: ref.rel, takenAt: ref.takenAt.toISOString() });
  }
  for (const file of result.staleTemps)
    sink({
      kind: 'warning',
      code: 'STALE_TEMP_REMOVED',
      message: `${options.dryRun ? 'would remove' : 'removed'} a temp file left by a crashed run: ${file}`,
    });
}

function emptyTotals(): SnapshotTotals {
  return { written: 0, bytesWritten: 0, unchanged: 0, invalid: 0, failed: 0, pruned: 0 };
}
