import { ArkError, ServiceError, toArkError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { parseDuration, type Policy } from '../policy/index.ts';
import { preStartChecks, type CheckResult } from '../restore/index.ts';
import {
  checkApi,
  serviceGroups,
  serviceTarget,
  startServices,
  stopServices,
  type ApiCheck,
  type ServiceController,
  type ServiceOutcome,
  type ServiceTarget,
} from '../services/index.ts';

// The service side of a restore: which services it stops and starts, the checks before they
// start, and what an operator is told when they do not come back. Used by pipeline/restore.ts
// (emergency restore, disaster recovery) and pipeline/disk-recovery.ts.

export interface RestoreServices {
  controller: ServiceController;
  /** Start order, groups in parallel (stopped in reverse). Empty: nothing to manage. */
  groups: ServiceTarget[][];
  /** Said instead of stopping anything when there is nothing to manage. */
  skipMessage?: { service: string; message: string };
  /** Disaster recovery ends with the API check (policy [api]). */
  api?: { target: ServiceTarget; path: string; timeoutMs: number };
  /** Show this many log lines of every restarted service (emergency restore); otherwise only of failed ones. */
  logLines?: number;
}

export interface ServicesReport {
  stopped: { name: string; container: string }[];
  started: ServiceOutcome[];
  logs: Record<string, string>;
  api: ApiCheck | null;
}

/** Every service of the policy, in its start order, with its API check: what a full recovery stops and starts. */
export function policyServices(policy: Policy, controller: ServiceController): RestoreServices {
  const api = policy.api
    ? {
        target: serviceTarget(policy, policy.api.service),
        path: policy.api.path,
        timeoutMs: parseDuration(policy.api.timeout),
      }
    : undefined;
  return { controller, groups: serviceGroups(policy), ...(api ? { api } : {}) };
}

/** The pre-start checks of a restored root, each reported as a `prestart-check` event. */
export async function runPreStartChecks(
  options: Parameters<typeof preStartChecks>[0],
  sink: EventSink,
  adjust: (r: CheckResult) => CheckResult = (r) => r,
): Promise<CheckResult[]> {
  const results = (await preStartChecks(options)).map(adjust);
  for (const c of results)
    sink({ kind: 'prestart-check', check: c.check, ok: c.ok, severity: c.severity, detail: c.detail });
  return results;
}

/** The restore committed, but a pre-start check failed: no service was started, and the operator is told what to fix. */
export function prestartChecksFailed(facts: {
  what: string;
  from: string;
  preservedAt: string | null;
  failed: readonly CheckResult[];
  containers: readonly string[];
}): ArkError {
  return new ArkError(
    'PRESTART_CHECKS_FAILED',
    `${facts.what} WAS restored from ${facts.from}${facts.preservedAt ? ` (previous files preserved in ${facts.preservedAt})` : ''}, but the pre-start checks failed, so no service was started:\n  ${facts.failed.map((c) => `${c.check}: ${c.detail}`).join('\n  ')}\n` +
      `Fix these, then start ${facts.containers.join(', ') || 'the services'} (or run the restore again from another date).`,
    { details: { stateRestored: true, checks: facts.failed, preservedAt: facts.preservedAt } },
  );
}

export const managed = (s: RestoreServices): boolean =>
  s.controller.kind !== 'none' && s.groups.some((g) => g.length > 0);

/** Stop before the swap (reverse start order); the ones that exist are started again afterwards. */
export async function stopForSwap(s: RestoreServices, sink: EventSink): Promise<ServiceTarget[]> {
  if (!managed(s)) {
    const skip = s.skipMessage ?? { service: '', message: 'services not managed (--services none)' };
    sink({ kind: 'service', service: skip.service, container: '', action: 'skip', message: skip.message });
    return [];
  }
  try {
    return await stopServices(s.controller, s.groups, sink);
  } catch (error) {
    await restartAfterFailure(s, (error as { stoppedSoFar?: ServiceTarget[] }).stoppedSoFar ?? [], sink);
    throw error;
  }
}

/** The swap failed and was rolled back: the files are as they were, so the services run again as before (best effort, no health wait). */
export async function restartAfterFailure(
  s: RestoreServices,
  present: readonly ServiceTarget[],
  sink: EventSink,
): Promise<void> {
  for (const group of s.groups) {
    for (const target of group.filter((t) => present.includes(t))) {
      try {
        await s.controller.start(target);
        sink({
          kind: 'service',
          service: target.name,
          container: target.container,
          action: 'start',
          message: `restore failed, files unchanged: started ${target.container} again`,
        });
      } catch (error) {
        sink({
          kind: 'warning',
          code: 'SERVICE_RESTART_FAILED',
          message: `restore failed and ${target.container} could not be restarted either: ${(error as Error).message}`,
        });
      }
    }
  }
}

/** Start what was stopped, in order, health-gated; then the API check. Throws ServiceError (SERVICES_UNHEALTHY, API_UNAVAILABLE). */
export async function startAfterSwap(
  s: RestoreServices,
  present: readonly ServiceTarget[],
  sink: EventSink,
  signal?: AbortSignal,
): Promise<ServicesReport> {
  const report: ServicesReport = {
    stopped: present.map((t) => ({ name: t.name, container: t.container })),
    started: [],
    logs: {},
    api: null,
  };
  const groups = s.groups.map((g) => g.filter((t) => present.includes(t)));
  try {
    report.started = await startServices(s.controller, groups, sink, signal ? { signal } : {});
  } catch (error) {
    report.started = ((error as ServiceError).details?.services as ServiceOutcome[] | undefined) ?? [];
    throw error;
  } finally {
    const show =
      s.logLines !== undefined
        ? present
        : present.filter((t) => report.started.some((o) => o.name === t.name && o.error !== null));
    for (const target of show) {
      const lines = await s.controller.logsTail(target, s.logLines ?? 20);
      report.logs[target.name] = lines;
      if (lines) sink({ kind: 'service-logs', service: target.name, lines });
    }
  }
  if (s.api && managed(s)) {
    report.api = await checkApi(s.controller, s.api.target, s.api.path, s.api.timeoutMs, sink);
    if (!report.api.ok) {
      throw new ServiceError(
        'API_UNAVAILABLE',
        `the API check failed: GET ${report.api.url ?? `${s.api.target.container}${s.api.path}`} answered ${report.api.status || 'nothing'} (expected 200)`,
        { details: { api: report.api } },
      );
    }
  }
  return report;
}

/** After a committed swap the restored files stay whatever the services do: rolling back would bring the damaged state back. */
export function restoredButUnhealthy(
  error: unknown,
  facts: {
    label: string;
    backup: string;
    preservedAt: string | null;
    changes: unknown;
    services: ServicesReport | null;
  },
): ServiceError {
  const cause = toArkError(error);
  const failed = (cause.details.failed as { code: string }[] | undefined) ?? [];
  const several = failed.length > 1 || cause.code === 'API_UNAVAILABLE';
  return new ServiceError(
    cause.code === 'API_UNAVAILABLE' ? 'RESTORED_API_UNAVAILABLE' : 'RESTORED_SERVICE_UNHEALTHY',
    `the ${facts.label} WAS restored from ${facts.backup} (${facts.preservedAt ? `previous state preserved in ${facts.preservedAt}` : 'nothing needed preserving'}), ` +
      `but ${several ? 'the services are' : 'the service is'} unhealthy: ${cause.message}. The restored files were kept (rolling back would bring the damaged state back); check the service logs.`,
    {
      cause: error,
      details: {
        stateRestored: true,
        serviceError: failed[0]?.code ?? cause.code,
        backup: facts.backup,
        preservedAt: facts.preservedAt,
        changes: facts.changes,
        services: facts.services,
      },
    },
  );
}
