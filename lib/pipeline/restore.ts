import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExtractLimits, Refusal } from '../archive/index.ts';
import { ArkError, isArkError, nameDiskFailure } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { withBackupLock } from '../lock/index.ts';
import type { Policy } from '../policy/index.ts';
import {
  chooseBackup,
  createWorkspace,
  hashLive,
  mirrorDirs,
  overlaySnapshots,
  planChanges,
  planSwap,
  preservePrevious,
  readJournal,
  settleInterrupted,
  stageBackup,
  sweepStaleWorkspaces,
  swapIn,
  type BackupCandidate,
  type CheckResult,
  type FileChange,
  type Rejection,
  type RestoreScope,
  type Settled,
  type SnapshotUse,
  type StagedBackup,
} from '../restore/index.ts';
import type { ServiceTarget } from '../services/index.ts';
import {
  managed,
  prestartChecksFailed,
  restartAfterFailure,
  restoredButUnhealthy,
  runPreStartChecks,
  startAfterSwap,
  stopForSwap,
  type RestoreServices,
  type ServicesReport,
} from './restore-services.ts';
import { assertRootFolder } from '../tree/index.ts';
import { startWriteback } from '../state/index.ts';
import { assertStagingSpace, assertSwapSpace } from './restore-space.ts';

export type { RestoreServices, ServicesReport } from './restore-services.ts';

export interface RestoreOptions {
  /** The tree restored into: the live root, or a sandbox (test restore). */
  root: string;
  backupDir: string;
  scope: RestoreScope;
  policy: Policy;
  /** Newest first; the first that passes is used. A backup the operator named is the only one. */
  candidates: readonly BackupCandidate[];
  explicit: boolean;
  services: RestoreServices;
  sink: EventSink;
  dryRun?: boolean;
  /** Lay newer valid real-time snapshots over the backup (never for a named backup). */
  snapshots?: boolean;
  /** Restore files the backup recorded as invalid when it was taken, as they were (disaster recovery). */
  acceptDeclaredInvalid?: boolean;
  /** Check the restored root before starting anything (disaster recovery). */
  preStartChecks?: boolean;
  limits?: Partial<ExtractLimits>;
  lockTimeoutMs?: number;
  /** SIGINT/SIGTERM: stop at the next step; during the swap, roll back first. */
  signal?: AbortSignal;
  /** Test-only: wait at a named point ("staged", "swap:N", "committed") so a test can kill the process there. */
  pauseAt?: (point: string) => Promise<void>;
  now?: () => Date;
}

export interface RestoreReport {
  scope: string;
  root: string;
  backup: { dir: string | null; date: string | null; label: string; recoveryPoint: string | null };
  /** Newer backups that failed verification, and why (newest first). */
  rejected: Rejection[];
  /** The data's timestamp for every restored file: the backup's, or a newer snapshot's. */
  recoveryPoints: { path: string; source: 'backup' | 'snapshot'; at: string | null; snapshot?: string }[];
  snapshots: SnapshotUse[];
  changes: FileChange[];
  refused: Refusal[];
  /** Restored as they were in the backup, which had recorded them as invalid TOML. */
  knownInvalid: { path: string; reason: string }[];
  skippedArchives: string[];
  preservedAt: string | null;
  services: ServicesReport;
  checks: CheckResult[];
  /** What an interrupted earlier restore left, settled before this one started. */
  settled: Settled | null;
  dryRun: boolean;
}

/**
 * The one restore pipeline (emergency-restore, disaster-recovery and disk-recovery use it):
 * nothing live changes until a backup is known good, and any failure before the commit
 * leaves the live tree exactly as it was. One restore per backup folder at a time (its lock);
 * a dry run takes no lock and changes nothing.
 */
export async function runRestore(options: RestoreOptions): Promise<RestoreReport> {
  await assertRootFolder(options.root);
  const timeout = options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs };
  // What a disk failure (no space, I/O error…) left: said in its message. The swap names its own.
  const phase: Phase = { changed: `Nothing in ${options.root} was changed.` };
  try {
    if (options.dryRun) return await restoreSteps(options, phase);
    return await withBackupLock({ backupDir: options.backupDir, sink: options.sink, ...timeout }, () =>
      restoreSteps(options, phase),
    );
  } catch (error) {
    // An abort that surfaced as a stream's AbortError (mid-extraction): nothing had changed yet.
    if (options.signal?.aborted && !isArkError(error)) throwIfAborted(options.signal, 'before anything was changed');
    throw nameDiskFailure(error, phase.changed);
  }
}

interface Phase {
  changed: string;
}

async function restoreSteps(o: RestoreOptions, phase: Phase): Promise<RestoreReport> {
  const { root, scope, sink } = o;
  const dryRun = o.dryRun ?? false;
  const pause = o.pauseAt ?? (async () => {});

  // 1. Settle what an interrupted restore left (roll back its unfinished swap) before anything else.
  const settled = dryRun ? await warnInterrupted(root, sink) : await settleInterrupted(root, sink);
  if (!dryRun) await sweepStaleWorkspaces(root);

  const workspace = await createWorkspace(root, { dryRun });
  let keepWorkspace = false;
  try {
    // 2. The newest backup that verifies (checksums before any extraction), extracts within the caps and validates.
    const { staged, rejected } = await chooseBackup({
      candidates: o.candidates,
      explicit: o.explicit,
      sink,
      stage: async (candidate) => {
        if (!dryRun) await assertStagingSpace(o, candidate, workspace.dir);
        return stageBackup({
          candidate,
          scope,
          stagingDir: workspace.staged,
          liveRoot: root, // files already right are not written again
          sink,
          ...(o.limits ? { limits: o.limits } : {}),
          acceptDeclaredInvalid: o.acceptDeclaredInvalid ?? false,
          ...(o.signal ? { signal: o.signal } : {}),
        });
      },
    });

    // 3. Smaller data loss: newer valid real-time snapshots replace their files.
    const snapshots =
      (o.snapshots ?? !o.explicit)
        ? await overlaySnapshots({ staged, scope, backupDir: o.backupDir, patterns: o.policy.realtime.paths, sink })
        : [];
    await pause('staged');
    // Writing back the staged bytes starts now, beside the plan and the services' stop; the swap's
    // own sync (the durable point) then finds little left to write.
    const writeback = dryRun ? null : startWriteback(workspace.staged);

    // 4. Plan against the live files.
    const mirror = mirrorDirs(scope, staged.files.keys());
    // Files staging found already right were compared byte for byte just now: not read again here
    // (the swap's pass, after the services stop, reads every one).
    const alreadyRight = new Map([...staged.files].filter(([, f]) => f.live).map(([path, f]) => [path, f.sha256]));
    let changes = planChanges(staged.files, await hashLive(root, staged.files.keys(), mirror, alreadyRight), mirror);
    const report = baseReport(o, staged, rejected, snapshots, changes, settled, dryRun);
    if (dryRun) return announcePlan(report, o.services, sink);

    // 5. Stop the services (reverse start order) so nothing writes while we swap.
    throwIfAborted(o.signal, 'before anything was changed');
    const present = await stopForSwap(o.services, sink, { root, paths: scope.paths });
    report.services.stopped = present.map((t) => ({ name: t.name, container: t.container }));

    // 6. Swap in under the journal; commit; preserve the previous files beside the backups.
    let preservedAt: string | null;
    try {
      throwIfAborted(o.signal, 'before anything was changed');
      changes = planChanges(staged.files, await hashLive(root, staged.files.keys(), mirror), mirror); // services may have written until they stopped
      // A file left out of staging because it was already right, and written to since: staged now.
      await staged.restage(changes.filter((c) => c.action === 'replace' || c.action === 'create').map((c) => c.path));
      const journal = await planSwap({
        root,
        workspace,
        changes,
        preserveTo: preserveTarget(o),
        preserveBase: scope.preserveBase,
        stoppedServices: present.map((t) => t.container),
        ...(o.now ? { now: o.now } : {}),
      });
      await assertSwapSpace(journal, root);
      await writeback;
      const committed = await swapIn(journal, { pauseAt: pause, ...(o.signal ? { signal: o.signal } : {}) });
      phase.changed = `The restore of the ${scope.label} from ${staged.candidate.label} had completed (committed) before it: its files are in place.`;
      await pause('committed');
      const preserved = await preservePrevious(committed);
      preservedAt = preserved.preservedAt ?? preserved.keptAt;
      if (preserved.problem)
        sink({
          kind: 'warning',
          code: 'PRESERVE_FAILED',
          message: `could not write the previous files to ${o.backupDir}/preserved (${preserved.problem}): they are kept in ${preserved.keptAt}`,
        });
    } catch (error) {
      keepWorkspace = error instanceof ArkError && error.code === 'RESTORE_ROLLBACK_FAILED';
      if (!keepWorkspace) await restartAfterFailure(o.services, present, sink); // the files are as they were
      throw error;
    }
    if (preservedAt) sink({ kind: 'state-preserved', from: join(root, scope.preserveBase), to: preservedAt });
    for (const c of changes)
      if (c.action === 'replace' || c.action === 'create')
        sink({ kind: 'file-restored', path: c.path, sha256: c.backupSha256!, previousSha256: c.currentSha256 });
    Object.assign(report, { changes, preservedAt });

    // 7. Check the restored tree before any service starts on it.
    if (o.preStartChecks) {
      const knownInvalid = new Set(staged.knownInvalid.map((k) => k.path));
      // Every staged .toml file was validated (the backup's while extracted, snapshots before use), but the known-invalid ones.
      const validated = new Map(
        [...staged.files]
          .filter(([path]) => path.endsWith('.toml') && !knownInvalid.has(path))
          .map(([path, f]) => [path, f.sha256]),
      );
      report.checks = await runPreStartChecks({ root, policy: o.policy, knownInvalid, validated }, sink);
      const failed = report.checks.filter((c) => !c.ok && c.severity === 'error');
      if (failed.length > 0)
        throw prestartChecksFailed({
          what: `the ${o.scope.label}`,
          from: staged.candidate.dir ?? staged.candidate.label,
          preservedAt,
          failed,
          containers: present.map((t) => t.container),
        });
    }

    // 8. Start in the policy's order, each group healthy before the next; then the API check.
    throwIfAborted(
      o.signal,
      `after the files were restored from ${staged.candidate.label} (committed); services not started: ${present.map((t) => t.container).join(', ') || 'none'}`,
    );
    try {
      report.services = await startAfterSwap(o.services, present, sink, o.signal);
    } catch (error) {
      throw restoredButUnhealthy(error, {
        label: scope.label,
        backup: staged.candidate.dir ?? staged.candidate.label,
        preservedAt,
        changes,
        services: report.services,
      });
    }
    return report;
  } finally {
    if (!keepWorkspace)
      await rm(workspace.dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 }).catch((e: Error) =>
        sink({
          kind: 'warning',
          code: 'STAGING_NOT_REMOVED',
          message: `could not remove ${workspace.dir}: ${e.message}`,
        }),
      );
  }
}

function baseReport(
  o: RestoreOptions,
  staged: StagedBackup,
  rejected: Rejection[],
  snapshots: SnapshotUse[],
  changes: FileChange[],
  settled: Settled | null,
  dryRun: boolean,
): RestoreReport {
  const { candidate } = staged;
  return {
    scope: o.scope.label,
    root: o.root,
    backup: {
      dir: candidate.dir,
      date: candidate.date,
      label: candidate.label,
      recoveryPoint: staged.recoveryPoint.display,
    },
    rejected,
    recoveryPoints: [...staged.files].map(([path, f]) => ({
      path,
      source: f.source,
      at: f.at,
      ...(f.snapshot ? { snapshot: f.snapshot } : {}),
    })),
    snapshots,
    changes,
    refused: staged.refused,
    knownInvalid: staged.knownInvalid,
    skippedArchives: staged.skipped,
    preservedAt: null,
    services: { stopped: [], started: [], logs: {}, api: null },
    checks: [],
    settled,
    dryRun,
  };
}

/** --dry-run: the plan, as events; nothing was changed (staging was in a temp folder, removed). */
function announcePlan(report: RestoreReport, services: RestoreServices, sink: EventSink): RestoreReport {
  const count = { replace: 0, create: 0, remove: 0, unchanged: 0 };
  for (const c of report.changes) {
    count[c.action] += 1;
    sink({
      kind: 'dry-run',
      detail: true,
      message: `${c.action} ${c.path} (current sha256 ${c.currentSha256 ?? 'none'}, backup sha256 ${c.backupSha256 ?? 'none'})`,
    });
  }
  sink({
    kind: 'dry-run',
    message: `plan: ${count.replace} file(s) to replace, ${count.create} to create, ${count.remove} to remove, ${count.unchanged} unchanged (-v lists every file with both sha256)`,
  });
  if (!managed(services)) sink({ kind: 'dry-run', message: 'no service would be stopped' });
  else if (services.groups.length === 1 && services.groups[0]!.length === 1)
    sink({ kind: 'dry-run', message: `would stop and restart container ${services.groups[0]![0]!.container}` });
  else {
    const names = (groups: ServiceTarget[][]) => groups.map((g) => g.map((t) => t.container).join(' + ')).join(' → ');
    sink({
      kind: 'dry-run',
      message: `would stop ${names([...services.groups].reverse())}, then start ${names(services.groups)}, each group healthy before the next`,
    });
    if (services.api)
      sink({
        kind: 'dry-run',
        message: `would then check the API: GET ${services.api.target.container}${services.api.path} = 200 (within ${Math.round(services.api.timeoutMs / 1000)} s)`,
      });
  }
  return report;
}

async function warnInterrupted(root: string, sink: EventSink): Promise<null> {
  const journal = await readJournal(root).catch((error: unknown) => {
    if (!isArkError(error) || error.code !== 'RESTORE_JOURNAL_INVALID') throw error;
    sink({
      kind: 'warning',
      code: 'RESTORE_JOURNAL_INVALID',
      message: `${error.message} A real run removes it if nothing of its swap is left, or stops and names what is.`,
    });
    return null;
  });
  if (journal)
    sink({
      kind: 'warning',
      code: 'RESTORE_INTERRUPTED_EARLIER',
      message: `an interrupted restore left ${join(root, '.ark-restore-journal.json')} (${journal.state}): a real run settles it first; this plan is against the files as they are now`,
    });
  return null;
}

/** <backup-dir>/preserved/<name>_<YYYYMMDD_HHMMSS>_<pid> (made unique with -2, -3… when it is created). */
function preserveTarget(o: RestoreOptions): string {
  const now = (o.now ?? (() => new Date()))();
  const stamp = `${now.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15)}_${process.pid}`;
  return join(o.backupDir, 'preserved', `${o.scope.preserveName}_${stamp}`);
}

function throwIfAborted(signal: AbortSignal | undefined, when: string): void {
  if (!signal?.aborted) return;
  const why = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
  throw new ArkError('RESTORE_INTERRUPTED', `restore interrupted (${why}) ${when}`);
}
