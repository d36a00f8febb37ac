import type { ExtractLimits } from '../archive/index.ts';
import { nameDiskFailure } from '../errors.ts';
import type { EventSink } from '../events.ts';
import type { Policy } from '../policy/index.ts';
import { assertModuleName, listCandidates, moduleStateScope, type FileChange } from '../restore/index.ts';
import { serviceForModule, type HealthResult, type ServiceController } from '../services/index.ts';
import { runRestore, type RestoreReport } from './restore.ts';
import { assertRootFolder } from '../tree/index.ts';

export { MODULE_NAME } from '../restore/index.ts';

export interface EmergencyRestoreOptions {
  root: string;
  backupDir: string;
  module: string;
  /** YYYYMMDD: that backup and no other. Absent: the newest that passes verification. */
  date?: string;
  policy: Policy;
  services: ServiceController;
  sink: EventSink;
  dryRun?: boolean;
  logLines?: number;
  /** Use newer valid real-time snapshots (default: yes, unless a date is named). */
  snapshots?: boolean;
  limits?: Partial<ExtractLimits>;
  lockTimeoutMs?: number;
  signal?: AbortSignal;
  pauseAt?: (point: string) => Promise<void>;
  now?: () => Date;
}

export interface EmergencyRestoreReport {
  module: string;
  backup: { dir: string | null; date: string | null; recoveryPoint: string | null };
  changes: FileChange[];
  preservedAt: string | null;
  service: { name: string; container: string; stopped: boolean; health: HealthResult | null; logs: string } | null;
  dryRun: boolean;
  rejected: RestoreReport['rejected'];
  recoveryPoints: RestoreReport['recoveryPoints'];
  refused: RestoreReport['refused'];
  settled: RestoreReport['settled'];
}

/**
 * The runbook's ark_emergency_restore.sh on the shared restore pipeline, for one module's
 * modules/<module>/state/: the newest backup that verifies (or the dated one), newer
 * snapshots laid over it, then stop the module's container → swap (journaled) → preserve
 * the corrupted state → start → health → log tail. Nothing changes until the backup is known
 * good; a failed swap puts the files back and restarts the service; a service unhealthy after
 * a completed swap is a failure (exit 1) that says the state WAS restored and keeps it.
 */
export async function emergencyRestore(options: EmergencyRestoreOptions): Promise<EmergencyRestoreReport> {
  const { root, module, policy } = options;
  assertModuleName(module);
  await assertRootFolder(root);
  const candidates = await listCandidates(options.backupDir, policy, options.date).catch((error: unknown) => {
    throw nameDiskFailure(error, 'Nothing was changed.', `listing the backups in ${options.backupDir}`);
  });
  const service = serviceForModule(policy, module);
  const report = await runRestore({
    root,
    backupDir: options.backupDir,
    scope: moduleStateScope(module),
    policy,
    candidates,
    explicit: options.date !== undefined,
    services: {
      controller: options.services,
      groups: service ? [[service]] : [],
      skipMessage: {
        service: module,
        message: service ? 'services not managed (--services none)' : `no service owns module ${module} in the policy`,
      },
      logLines: options.logLines ?? 10,
    },
    sink: options.sink,
    ...pick(options, ['dryRun', 'snapshots', 'limits', 'lockTimeoutMs', 'signal', 'pauseAt', 'now']),
  });
  const started = report.services.started[0];
  return {
    module,
    backup: { dir: report.backup.dir, date: report.backup.date, recoveryPoint: report.backup.recoveryPoint },
    changes: report.changes,
    preservedAt: report.preservedAt,
    service:
      service && started
        ? {
            name: service.name,
            container: service.container,
            stopped: true,
            health: started.health,
            logs: report.services.logs[service.name] ?? '',
          }
        : null,
    dryRun: report.dryRun,
    rejected: report.rejected,
    recoveryPoints: report.recoveryPoints,
    refused: report.refused,
    settled: report.settled,
  };
}

function pick<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (object[key] !== undefined) out[key] = object[key];
  return out;
}
