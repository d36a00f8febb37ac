import type { EventSink } from '../events.ts';
import type { Policy } from '../policy/index.ts';
import type { CheckResult } from '../restore/index.ts';
import { createBindSources, type ServiceTarget } from '../services/index.ts';
import type { DiskRecoveryReport } from './disk-recovery-report.ts';
import {
  managed,
  prestartChecksFailed,
  type RestoreServices,
  restoredButUnhealthy,
  runPreStartChecks,
  type ServicesReport,
  startAfterSwap,
} from './restore-services.ts';

// The last steps of a disk recovery, once the root is in place: the pre-start checks (what the
// offsite copy cannot hold is a warning, not an error), then the services in order, health-gated,
// on the folders their containers bind-mount.

/** The pre-start checks of the recovered root; version.toml is only a warning when the infra archive was not offsite. */
export function checkRecoveredRoot(
  root: string,
  policy: Policy,
  knownInvalid: readonly { path: string }[],
  infraRestored: boolean,
  sink: EventSink,
): Promise<CheckResult[]> {
  return runPreStartChecks({ root, policy, knownInvalid: new Set(knownInvalid.map((k) => k.path)) }, sink, (r) =>
    // version.toml travels in the infra archive; without it offsite, it comes from the repository.
    r.check === 'version' && !r.ok && !infraRestored
      ? {
          ...r,
          severity: 'warning' as const,
          detail: `${r.detail} (it is in the infra archive, which the offsite copy does not hold: clone the Arkalia repository — runbook step 2)`,
        }
      : r,
  );
}

/** Start the services on the recovered root, in order and health-gated (none when they are not managed); a failed check starts none. */
export async function startOnRecoveredRoot(
  services: RestoreServices,
  stopped: ServiceTarget[],
  report: DiskRecoveryReport,
  sink: EventSink,
  date: string,
  root: string,
): Promise<ServicesReport | null> {
  if (!managed(services)) return null;
  const absent = services.groups
    .flat()
    .filter((t) => !stopped.includes(t))
    .map((t) => t.container);
  // Compose creates a container that is gone (a new host): every service is started.
  const present =
    services.controller.kind === 'compose'
      ? [...stopped, ...services.groups.flat().filter((t) => !stopped.includes(t))]
      : stopped;
  if (present === stopped && absent.length > 0)
    sink({
      kind: 'warning',
      code: 'CONTAINERS_ABSENT',
      message: `no container ${absent.join(', ')} on this host: create them from the restored root (docker compose up -d, or run with --services compose), then they start on the recovered state`,
    });
  const failed = report.checks.filter((c) => !c.ok && c.severity === 'error');
  if (failed.length > 0)
    throw prestartChecksFailed({
      what: report.root,
      from: `offsite set ${date}`,
      preservedAt: null,
      failed,
      containers: present.map((t) => t.container),
    });
  if (present.length === 0) return { stopped: [], started: [], logs: {}, api: null };
  // The containers bind-mount folders of the root that the offsite does not hold (logs/):
  // created by the operator's user, not by Docker as root (see create-bind-sources.ts).
  await createBindSources(
    services.controller,
    services.groups.flat().filter((t) => present.includes(t)),
    root,
    sink,
  );
  try {
    const started = await startAfterSwap(services, present, sink);
    return { ...started, stopped: stopped.map((t) => ({ name: t.name, container: t.container })) };
  } catch (error) {
    throw restoredButUnhealthy(error, {
      label: 'root',
      backup: `offsite set ${date}`,
      preservedAt: null,
      changes: report.restored,
      services: null,
    });
  }
}
