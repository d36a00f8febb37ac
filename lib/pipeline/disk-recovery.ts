import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ArkError, isArkError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { withBackupLock } from '../lock/index.ts';
import { readOnly, retryEvents, type Remote, type RetryOptions } from '../offsite/index.ts';
import type { Policy } from '../policy/index.ts';
import { systemScope } from '../restore/index.ts';
import {
  allRejected,
  chooseSets,
  layRepository,
  type ClonedRepository,
  createBuild,
  decryptionKeys,
  discardBuild,
  guardRecoveryFolders,
  isSetDefect,
  planOffsiteSets,
  planPlacement,
  problemError,
  readOffsiteIndex,
  rebuildBackup,
  rebuiltCandidate,
  renameIntoPlace,
  withRejections,
  type KeySources,
  type OffsiteSet,
  type Placement,
} from '../restore-source/index.ts';
import { noneController, type ServiceController, type ServiceTarget } from '../services/index.ts';
import { emptyReport, type DiskRecoveryReport } from './disk-recovery-report.ts';
import { buildStack, cloneBeside } from './disk-recovery-stack.ts';

export type { DiskRecoveryReport } from './disk-recovery-report.ts';
import { checkRecoveredRoot, startOnRecoveredRoot } from './disk-recovery-start.ts';
import { backupDateOf, DISK_RECOVERY_DATASETS, planDiskRecovery } from './disk-recovery-plan.ts';
import { runRestore } from './restore.ts';
import {
  policyServices,
  managed,
  restartAfterFailure,
  stopForSwap,
  type ResolvedServices,
  type RestoreServices,
} from './restore-services.ts';

export interface DiskRecoveryOptions {
  /** The offsite backend (--from). Wrapped read-only here: a recovery never writes to the offsite. */
  remote: Remote;
  /** The offsite folder when it is on this machine: the backup folder must not be it. */
  offsiteDir?: string;
  /** The new Arkalia root: absent or empty. */
  root: string;
  /** Where the local backup is rebuilt (daily/arkalia_<DATE>/). */
  backupDir: string;
  policy: Policy;
  keys: KeySources;
  /** YYYYMMDD: that set and no other. Absent: the newest that verifies. */
  date?: string;
  services: ServiceController;
  sink: EventSink;
  dryRun?: boolean;
  retry?: Omit<RetryOptions, 'onRetry'>;
  lockTimeoutMs?: number;
  /** --clone URL [--ref REF]: the Arkalia repository, laid into the new root before the state is restored over it (runbook: git clone). */
  repository?: { url: string; ref?: string };
  /** --build: build the compose file's images before the state is restored (runbook: docker-compose build). */
  build?: boolean;
  /**
   * Chooses the services once the repository is there (its compose file; `readFrom` is the
   * clone, not yet placed). Without it, `policy` and `services` as given.
   */
  resolveServices?: (readFrom: string | undefined) => Promise<ResolvedServices>;
  /** Test-only: passed to the restore pipeline (a test plants a link in the hidden tree at "staged"). */
  pauseAt?: (point: string) => Promise<void>;
}

/**
 * The runbook's ark_disk_recovery.sh: everything local is gone; only the offsite copy and a
 * private key remain. Keys → offsite index → newest set (or the dated one) → rebuild the local
 * backup from it (download, verify, decrypt, verify) → the shared restore pipeline into a
 * hidden tree beside the root → rename into place → pre-start checks → services in order.
 * A set that is missing or damaged on the offsite is rejected (named, with why) and the next
 * older set tried; a wrong key or passphrase fails at once. Any failure leaves the root absent
 * or as it was and no daily folder that looks complete but is not.
 */
export async function diskRecovery(o: DiskRecoveryOptions): Promise<DiskRecoveryReport> {
  const { sink, policy } = o;
  await guardRecoveryFolders(o);
  const remote = readOnly(o.remote);
  const retry: RetryOptions = {
    ...o.retry,
    onRetry: retryEvents(sink),
  };

  // 1. Keys first: an unreadable key, a missing or wrong passphrase stops before anything is read or written.
  sink({
    kind: 'step',
    step: 'keys',
    message: `reading the private key(s): ${[...o.keys.keyFiles, ...(o.keys.keyring ? [`keyring ${o.keys.keyring}`] : [])].join(', ')}`,
  });
  const keys = decryptionKeys(o.keys);
  await keys.load();

  // 2. The root must be absent or empty: refused before any download.
  const placement = await planPlacement(o.root);

  // 3. What the offsite holds and vouches for (SHA256SUMS, and the manifest it vouches for).
  sink({ kind: 'step', step: 'read-offsite', message: `reading ${remote.target}` });
  const index = await readOffsiteIndex(remote, { sink, retry });
  const required = systemScope(policy, DISK_RECOVERY_DATASETS)
    .archives.filter((a) => a.required)
    .map((a) => a.name);
  const sets = chooseSets(
    planOffsiteSets({
      listing: index.listing,
      sums: index.sums,
      manifest: index.manifest,
      archives: policy.archives,
      required,
    }),
    o.date,
    index.target,
  );

  const report = emptyReport(o, index, placement);
  if (o.dryRun) {
    const resolved = o.repository || !o.resolveServices ? null : await o.resolveServices(undefined);
    if (resolved) sink({ kind: 'info', message: resolved.note });
    if (o.repository)
      sink({
        kind: 'dry-run',
        message: `would clone ${o.repository.url}${o.repository.ref ? ` at ${o.repository.ref}` : ''} and lay it into ${o.root} first`,
      });
    if (o.build)
      sink({ kind: 'dry-run', message: 'would build the images of its compose file (docker compose build)' });
    return planDiskRecovery(
      report,
      sets,
      keys,
      resolved ? { ...o, policy: resolved.policy, services: resolved.controller } : o,
    );
  }

  // 4. The runbook's git clone and docker-compose build: the repository beside the root, its images built.
  const repository = o.repository ? await cloneBeside(o.root, o.repository, sink) : null;
  try {
    const resolved = o.resolveServices ? await o.resolveServices(repository?.dir) : null;
    if (resolved) sink({ kind: 'info', message: resolved.note });
    if (repository) report.repository = { url: repository.url, ref: repository.ref, commit: repository.commit };
    if (o.build) report.built = await buildStack(o.root, resolved, repository, sink);
    const stack = resolved ? { ...o, policy: resolved.policy, services: resolved.controller } : o;
    return await recoverFromSets(stack, { sets, remote, retry, keys, placement, report, repository });
  } finally {
    if (repository) await rm(repository.dir, { recursive: true, force: true });
  }
}

interface SetsContext {
  sets: OffsiteSet[];
  remote: Remote;
  retry: RetryOptions;
  keys: ReturnType<typeof decryptionKeys>;
  placement: Placement;
  report: DiskRecoveryReport;
  repository: ClonedRepository | null;
}

async function recoverFromSets(o: DiskRecoveryOptions, c: SetsContext): Promise<DiskRecoveryReport> {
  const { sink, policy } = o;
  const { sets, remote, retry, keys, placement, report, repository } = c;
  // 5. Newest set first; one missing or damaged on the offsite is rejected and the next older one tried.
  const services = policyServices(policy, o.services);
  if (o.services.kind !== 'none' && !managed(services))
    sink({
      kind: 'warning',
      code: 'NO_SERVICES_KNOWN',
      message:
        'no services to start after the recovery: no compose file (the root is new) and no [services] in the policy. Give --compose FILE (your docker-compose.yml) or --clone URL (the Arkalia repository), or start the stack yourself once the root is back',
    });
  const stopped: { targets: ServiceTarget[] | null } = { targets: null };
  const errors: ArkError[] = [];
  try {
    for (const [i, set] of sets.entries()) {
      const source = o.date
        ? 'requested date'
        : i === 0
          ? 'newest'
          : `fallback: the newest that verifies (${i} newer rejected)`;
      sink({ kind: 'backup-selected', dir: `offsite set ${set.date} on ${report.offsite}`, date: set.date, source });
      try {
        if (set.problem) throw problemError(set.problem);
        return await recoverSet(set, { o, remote, retry, keys, placement, services, stopped, report, repository });
      } catch (error) {
        if (!isSetDefect(error) || o.date !== undefined) throw withRejections(error, report.rejected);
        const name = set.problem?.name ?? (error.details.name as string | undefined) ?? null;
        const rejection = { date: set.date, code: error.code, name, reason: error.message };
        report.rejected.push(rejection);
        errors.push(error);
        sink({
          kind: 'backup-rejected',
          backup: `offsite set ${set.date}`,
          dir: null,
          date: set.date,
          code: error.code,
          reason: error.message,
        });
      }
    }
    throw allRejected(errors, report.rejected);
  } catch (error) {
    // The root is as it was: services stopped for it run again as before.
    if (stopped.targets !== null && !isCommitted(error)) await restartAfterFailure(services, stopped.targets, sink);
    throw error;
  }
}

interface SetContext {
  o: DiskRecoveryOptions;
  remote: Remote;
  retry: RetryOptions;
  keys: ReturnType<typeof decryptionKeys>;
  placement: Placement;
  services: RestoreServices;
  stopped: { targets: ServiceTarget[] | null };
  report: DiskRecoveryReport;
  repository: ClonedRepository | null;
}

async function recoverSet(set: OffsiteSet, c: SetContext): Promise<DiskRecoveryReport> {
  const { o, placement, services, stopped, report } = c;
  const { sink, policy } = o;

  // a. The key must open the set's required files: a wrong key fails here, before anything is created.
  for (const f of set.files.filter((file) => file.required)) await c.keys.forFile(f.name, f.recipients);

  // b. Rebuild <backup-dir>/daily/arkalia_<DATE>/ from the set, under the backup folder's lock.
  await mkdir(o.backupDir, { recursive: true });
  const timeout = o.lockTimeoutMs === undefined ? {} : { timeoutMs: o.lockTimeoutMs };
  const rebuilt = await withBackupLock({ backupDir: o.backupDir, sink, ...timeout }, () =>
    rebuildBackup({
      remote: c.remote,
      set,
      backupDir: o.backupDir,
      keysFor: (f) => c.keys.forFile(f.name, f.recipients),
      sink,
      retry: c.retry,
    }),
  );
  Object.assign(report, {
    fetched: [...report.fetched, ...rebuilt.fetched],
    decrypted: [...report.decrypted, ...rebuilt.decrypted],
    dropped: rebuilt.dropped,
  });

  // c. The shared restore pipeline: verify against the rebuilt checksums, stage, validate, swap into the (hidden) tree.
  const datasets = DISK_RECOVERY_DATASETS.filter(
    (d) => policy.datasets[d] && rebuilt.archives.some((a) => a.archive === policy.datasets[d]!.archive),
  );
  const tree = placement.mode === 'rename' ? placement.build : placement.root;
  if (placement.mode === 'rename') await createBuild(placement);
  // in place: nothing may write while the files go in
  else
    stopped.targets ??= await stopForSwap(services, sink, { root: o.root, paths: systemScope(policy, datasets).paths });
  let restore;
  let laid: string[] = [];
  try {
    // The repository first, the state restored over it (its state folders become the backup's exactly).
    if (c.repository) laid = await layRepository(c.repository.dir, tree);
    restore = await runRestore({
      root: tree,
      backupDir: o.backupDir,
      scope: systemScope(policy, datasets),
      policy,
      candidates: [rebuiltCandidate(rebuilt, policy, backupDateOf(set.files))],
      explicit: true,
      services: {
        controller: noneController,
        groups: [],
        skipMessage: {
          service: '',
          message: 'services are stopped and started by disk recovery, around placing the root',
        },
      },
      sink,
      snapshots: false,
      acceptDeclaredInvalid: true,
      ...(o.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: o.lockTimeoutMs }),
      ...(o.pauseAt ? { pauseAt: o.pauseAt } : {}),
    });
  } catch (error) {
    await discardBuild(placement);
    // In place, the root was empty: what was laid from the repository goes again.
    if (placement.mode === 'in-place')
      for (const name of laid) await rm(join(tree, name), { recursive: true, force: true });
    throw error;
  }

  // d. The root appears complete, in one rename (in place: it already is, under the journal).
  if (placement.mode === 'rename') {
    stopped.targets ??= await stopForSwap(services, sink, { root: o.root, paths: ['.'] }); // the whole root is replaced
    try {
      await renameIntoPlace(placement);
    } catch (error) {
      await discardBuild(placement);
      throw error;
    }
  }
  sink({
    kind: 'info',
    message: `${o.root} restored from offsite set ${set.date} (${placement.mode === 'rename' ? 'built beside it and renamed into place' : 'swapped in place under the restore journal'})`,
  });
  const notRestored = DISK_RECOVERY_DATASETS.filter((d) => policy.datasets[d] && !datasets.includes(d)).map((d) => ({
    dataset: d,
    archive: policy.datasets[d]!.archive,
    paths: [...policy.datasets[d]!.paths],
  }));
  Object.assign(report, {
    backup: {
      date: set.date,
      dir: rebuilt.dir,
      recoveryPoint: restore.backup.recoveryPoint,
      encryptedAt: set.files.find((f) => f.required)?.encryptedAt ?? null,
      reused: rebuilt.reused,
    },
    restored: restore.changes
      .filter((ch) => ch.backupSha256 !== null && ch.action !== 'remove')
      .map((ch) => ({ path: ch.path, sha256: ch.backupSha256! })),
    knownInvalid: restore.knownInvalid,
    notRestored,
    keys: [...c.keys.used.values()].map((k) => ({
      fingerprint: k.info.fingerprint,
      keyIds: k.info.keyIds,
      userIds: k.info.userIds,
      source: k.source,
    })),
  });
  for (const n of notRestored)
    sink({
      kind: 'warning',
      code: 'DATASET_NOT_OFFSITE',
      message: `${n.dataset} (${n.paths.join(' ')}) is not in the offsite copy (archive ${n.archive} is not sent offsite): take it from the Arkalia repository (runbook: git clone)`,
    });
  for (const k of restore.knownInvalid)
    sink({
      kind: 'warning',
      code: 'RESTORED_INVALID_TOML',
      path: k.path,
      message: `${k.path} restored as it was in the backup, where it was already invalid TOML (${k.reason}): fix it by hand`,
    });

  // e. Check the restored root before any service starts on it; then start in the policy's order, health-gated.
  report.checks = await checkRecoveredRoot(o.root, policy, restore.knownInvalid, datasets.includes('infra'), sink);
  report.services = await startOnRecoveredRoot(services, stopped.targets ?? [], report, sink, set.date, o.root);
  return report;
}

/** Failures after the root was placed (services unhealthy): the root stays restored. */
function isCommitted(error: unknown): boolean {
  return isArkError(error) && error.details.stateRestored === true;
}
