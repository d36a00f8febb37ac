import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest } from '../checksum/index.ts';
import { isArkError, ServiceError, toArkError, UsageError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import type { Policy } from '../policy/index.ts';
import { assertModuleName, hashTree, moduleStatePrefix, planChanges, preserveTree, selectBackup, stageModuleState, swapIn, type FileChange } from '../restore/index.ts';
import { serviceForModule, type HealthResult, type ServiceController, type ServiceTarget } from '../services/index.ts';
import { manifestFileName } from './backup-layout.ts';

export { MODULE_NAME } from '../restore/index.ts';

export interface EmergencyRestoreOptions {
  root: string;
  backupDir: string;
  module: string;
  /** YYYYMMDD; newest backup when absent. */
  date?: string;
  policy: Policy;
  services: ServiceController;
  sink: EventSink;
  dryRun?: boolean;
  logLines?: number;
  now?: () => Date;
}

export interface EmergencyRestoreReport {
  module: string;
  backup: { dir: string; date: string; recoveryPoint: string | null };
  changes: FileChange[];
  preservedAt: string | null;
  service: { name: string; container: string; stopped: boolean; health: HealthResult | null; logs: string } | null;
  dryRun: boolean;
}

/**
 * The runbook's ark_emergency_restore.sh, reordered so that nothing changes until the backup
 * is known good: select → verify checksum → stage → validate → (stop → preserve → swap →
 * start → health → logs). Any failure before the swap leaves files and services as they
 * were; a failure during the swap puts the preserved files back and restarts the service.
 * A service that stays unhealthy after a completed swap is a failure (ServiceError, exit 1)
 * that says the state WAS restored: the restored files are kept.
 */
export async function emergencyRestore(options: EmergencyRestoreOptions): Promise<EmergencyRestoreReport> {
  const { root, module, policy, sink, services } = options;
  assertModuleName(module);
  const now = options.now ?? (() => new Date());
  const dryRun = options.dryRun ?? false;
  await assertRootIsFolder(root);
  const prefix = moduleStatePrefix(module);
  const liveDir = join(root, prefix);

  // 1. Pick the backup and verify it before reading a byte of it.
  const backup = await selectBackup(options.backupDir, options.date);
  sink({ kind: 'backup-selected', dir: backup.dir, date: backup.date, source: options.date ? 'requested date' : 'newest' });
  const recoveryPoint = await readRecoveryPoint(backup.dir, backup.date);

  // 2. Extract only this module's state into staging and validate it.
  const stagingRoot = dryRun ? join(tmpdir(), `ark-restore-${process.pid}-${Date.now()}`) : join(root, `.ark-restore-${module}-${process.pid}-${Date.now()}`);
  const staged = await stageModuleState({ backup, module, stagingRoot, sink });
  try {
    const live = await hashTree(liveDir);
    const changes = planChanges(prefix, staged.files, live);
    const service = serviceForModule(policy, module);
    if (dryRun) {
      for (const c of changes) sink({ kind: 'dry-run', message: `${c.action} ${c.path} (current sha256 ${c.currentSha256 ?? 'none'}, backup sha256 ${c.backupSha256 ?? 'none'})` });
      sink({ kind: 'dry-run', message: service && services.kind !== 'none' ? `would stop and restart container ${service.container}` : 'no service would be stopped' });
      return { module, backup: { dir: backup.dir, date: backup.date, recoveryPoint }, changes, preservedAt: null, service: null, dryRun };
    }

    // 3. Stop the service so it cannot write while we swap.
    let stopped = false;
    if (service && services.kind !== 'none') {
      stopped = await services.stop(service);
      sink({ kind: 'service', service: service.name, container: service.container, action: stopped ? 'stop' : 'absent', message: stopped ? `stopped ${service.container}` : `container ${service.container} not found: nothing to stop or restart` });
    } else {
      sink({ kind: 'service', service: module, container: '', action: 'skip', message: service ? 'services not managed (--services none)' : `no service owns module ${module} in the policy` });
    }

    // 4. Preserve the current (corrupted) state beside the backups, then swap in. If either
    //    fails the live files are as they were, so the service is restarted as we found it.
    let preservedAt: string;
    let finalChanges: FileChange[];
    try {
      const current = await hashTree(liveDir);
      preservedAt = await preserveTree(liveDir, [...current.keys()], join(options.backupDir, 'preserved', `${module}_state_${stamp(now())}`));
      sink({ kind: 'state-preserved', from: liveDir, to: preservedAt });
      finalChanges = planChanges(prefix, staged.files, current);
      await swapIn({ liveDir, stagedDir: staged.dir, prefix, changes: finalChanges, preserveDir: preservedAt, preserved: [...current.keys()] });
    } catch (error) {
      // After a failed rollback the files are half restored: better stopped than running on them.
      const filesAsBefore = !(isArkError(error) && error.code === 'RESTORE_ROLLBACK_FAILED');
      if (service && stopped && filesAsBefore) await restartAfterFailure(services, service, sink);
      throw error;
    }
    for (const c of finalChanges) {
      if (c.action === 'replace' || c.action === 'create') sink({ kind: 'file-restored', path: c.path, sha256: c.backupSha256!, previousSha256: c.currentSha256 });
    }

    // 5. Restart and wait for health, then show the tail of the logs. The restored files stay
    //    whatever the service does: rolling back would reinstate the corrupted state.
    let health: HealthResult | null = null;
    let logs = '';
    if (service && stopped) {
      try {
        await services.start(service);
        sink({ kind: 'service', service: service.name, container: service.container, action: 'start', message: `started ${service.container}, waiting for health (up to ${Math.round(service.healthTimeoutMs / 1000)} s)` });
        health = await services.waitHealthy(service);
        sink({ kind: 'service', service: service.name, container: service.container, action: 'healthy', message: `${service.container} healthy (${health.detail})` });
      } catch (error) {
        throw restoredButUnhealthy(error, { module, container: service.container, backupDir: backup.dir, preservedAt, changes: finalChanges });
      } finally {
        logs = await services.logsTail(service, options.logLines ?? 10);
        if (logs) sink({ kind: 'service-logs', service: service.name, lines: logs });
      }
    }
    return {
      module,
      backup: { dir: backup.dir, date: backup.date, recoveryPoint },
      changes: finalChanges,
      preservedAt,
      service: service && stopped ? { name: service.name, container: service.container, stopped, health, logs } : null,
      dryRun,
    };
  } finally {
    await staged.discard().catch((error: Error) => sink({ kind: 'warning', code: 'STAGING_NOT_REMOVED', message: `could not remove the staging folder ${stagingRoot}: ${error.message}` }));
  }
}

/** The data's timestamp: the manifest's backup_date, or the folder's date for runbook backups without one. */
async function readRecoveryPoint(dir: string, date: string): Promise<string | null> {
  try {
    return parseManifest(await readFile(join(dir, manifestFileName(date)), 'utf8')).backup_date;
  } catch {
    return `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`;
  }
}

async function assertRootIsFolder(root: string): Promise<void> {
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) throw new UsageError(`Arkalia root ${root} is not a folder (use --root DIR or ARK_ROOT)`);
}

/** Best effort: the files are as they were, so the service runs again as before; the swap's error is what the operator needs. */
async function restartAfterFailure(services: ServiceController, service: ServiceTarget, sink: EventSink): Promise<void> {
  try {
    await services.start(service);
    sink({ kind: 'service', service: service.name, container: service.container, action: 'start', message: `restore failed, files unchanged: started ${service.container} again` });
  } catch (error) {
    sink({ kind: 'warning', code: 'SERVICE_RESTART_FAILED', message: `restore failed and ${service.container} could not be restarted either: ${(error as Error).message}` });
  }
}

function restoredButUnhealthy(error: unknown, facts: { module: string; container: string; backupDir: string; preservedAt: string; changes: FileChange[] }): ServiceError {
  const cause = toArkError(error);
  return new ServiceError(
    'RESTORED_SERVICE_UNHEALTHY',
    `the state of ${facts.module} WAS restored from ${facts.backupDir} (previous state preserved in ${facts.preservedAt}), ` +
      `but the service is unhealthy: ${cause.message}. The restored files were kept (rolling back would bring the corrupted state back); check docker logs ${facts.container}.`,
    { cause: error, details: { stateRestored: true, serviceError: cause.code, backup: facts.backupDir, preservedAt: facts.preservedAt, changes: facts.changes } },
  );
}

function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15) + `_${process.pid}`;
}
