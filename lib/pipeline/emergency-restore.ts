import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifest } from '../checksum/index.ts';
import { UsageError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import type { Policy } from '../policy/index.ts';
import { hashTree, moduleStatePrefix, planChanges, preserveTree, selectBackup, stageModuleState, swapIn, type FileChange } from '../restore/index.ts';
import { serviceForModule, type HealthResult, type ServiceController } from '../services/index.ts';
import { manifestFileName } from './backup-layout.ts';

export const MODULE_NAME = /^[a-z][a-z0-9_]{0,63}$/;

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
 * start → health). Any failure before the swap leaves files and services as they were; a
 * failure during the swap puts the preserved files back.
 */
export async function emergencyRestore(options: EmergencyRestoreOptions): Promise<EmergencyRestoreReport> {
  const { root, module, policy, sink, services } = options;
  if (!MODULE_NAME.test(module)) {
    throw new UsageError(`module must be a plain identifier such as "zeroia" (lowercase letters, digits, _), got ${JSON.stringify(module)}`);
  }
  const now = options.now ?? (() => new Date());
  const dryRun = options.dryRun ?? false;
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
      for (const c of changes) sink({ kind: 'dry-run', message: `${c.action} ${c.path} (current ${short(c.currentSha256)}, backup ${short(c.backupSha256)})` });
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

    // 4. Preserve the current (corrupted) state beside the backups, then swap in.
    const current = await hashTree(liveDir);
    const preservedAt = join(options.backupDir, 'preserved', `${module}_state_${stamp(now())}`);
    await preserveTree(liveDir, [...current.keys()], preservedAt);
    sink({ kind: 'state-preserved', from: liveDir, to: preservedAt });
    const finalChanges = planChanges(prefix, staged.files, current);
    await swapIn({ liveDir, stagedDir: staged.dir, prefix, changes: finalChanges, preserveDir: preservedAt, preserved: [...current.keys()] });
    for (const c of finalChanges) {
      if (c.action === 'replace' || c.action === 'create') sink({ kind: 'file-restored', path: c.path, sha256: c.backupSha256!, previousSha256: c.currentSha256 });
    }

    // 5. Restart and wait for health, then show the tail of the logs.
    let health: HealthResult | null = null;
    let logs = '';
    if (service && stopped) {
      await services.start(service);
      sink({ kind: 'service', service: service.name, container: service.container, action: 'start', message: `started ${service.container}, waiting for health (up to ${Math.round(service.healthTimeoutMs / 1000)} s)` });
      try {
        health = await services.waitHealthy(service);
        sink({ kind: 'service', service: service.name, container: service.container, action: 'healthy', message: `${service.container} healthy (${health.detail})` });
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
    await staged.discard();
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

function stamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15) + `_${process.pid}`;
}

function short(sha: string | null): string {
  return sha ? `${sha.slice(0, 12)}…` : 'none';
}
