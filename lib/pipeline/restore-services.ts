import { ServiceError, toArkError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { checkApi, startServices, stopServices, type ApiCheck, type ServiceController, type ServiceOutcome, type ServiceTarget } from '../services/index.ts';

// The service side of a restore: which services it stops and starts, and what an operator
// is told when they do not come back. Used by pipeline/restore.ts.

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

export const managed = (s: RestoreServices): boolean => s.controller.kind !== 'none' && s.groups.some((g) => g.length > 0);

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
export async function restartAfterFailure(s: RestoreServices, present: readonly ServiceTarget[], sink: EventSink): Promise<void> {
  for (const group of s.groups) {
    for (const target of group.filter((t) => present.includes(t))) {
      try {
        await s.controller.start(target);
        sink({ kind: 'service', service: target.name, container: target.container, action: 'start', message: `restore failed, files unchanged: started ${target.container} again` });
      } catch (error) {
        sink({ kind: 'warning', code: 'SERVICE_RESTART_FAILED', message: `restore failed and ${target.container} could not be restarted either: ${(error as Error).message}` });
      }
    }
  }
}

/** Start what was stopped, in order, health-gated; then the API check. Throws ServiceError (SERVICES_UNHEALTHY, API_UNAVAILABLE). */
export async function startAfterSwap(s: RestoreServices, present: readonly ServiceTarget[], sink: EventSink, signal?: AbortSignal): Promise<ServicesReport> {
  const report: ServicesReport = { stopped: present.map((t) => ({ name: t.name, container: t.container })), started: [], logs: {}, api: null };
  const groups = s.groups.map((g) => g.filter((t) => present.includes(t)));
  try {
    report.started = await startServices(s.controller, groups, sink, signal ? { signal } : {});
  } catch (error) {
    report.started = ((error as ServiceError).details?.services as ServiceOutcome[] | undefined) ?? [];
    throw error;
  } finally {
    const show = s.logLines !== undefined ? present : present.filter((t) => report.started.some((o) => o.name === t.name && o.error !== null));
    for (const target of show) {
      const lines = await s.controller.logsTail(target, s.logLines ?? 20);
      report.logs[target.name] = lines;
      if (lines) sink({ kind: 'service-logs', service: target.name, lines });
    }
  }
  if (s.api && managed(s)) {
    report.api = await checkApi(s.controller, s.api.target, s.api.path, s.api.timeoutMs, sink);
    if (!report.api.ok) {
      throw new ServiceError('API_UNAVAILABLE', `the API check failed: GET ${report.api.url ?? `${s.api.target.container}${s.api.path}`} answered ${report.api.status || 'nothing'} (expected 200)`, { details: { api: report.api } });
    }
  }
  return report;
}

/** After a committed swap the restored files stay whatever the services do: rolling back would bring the damaged state back. */
export function restoredButUnhealthy(error: unknown, facts: { label: string; backup: string; preservedAt: string | null; changes: unknown; services: ServicesReport | null }): ServiceError {
  const cause = toArkError(error);
  const failed = (cause.details.failed as { code: string }[] | undefined) ?? [];
  const several = failed.length > 1 || cause.code === 'API_UNAVAILABLE';
  return new ServiceError(
    cause.code === 'API_UNAVAILABLE' ? 'RESTORED_API_UNAVAILABLE' : 'RESTORED_SERVICE_UNHEALTHY',
    `the ${facts.label} WAS restored from ${facts.backup} (${facts.preservedAt ? `previous state preserved in ${facts.preservedAt}` : 'nothing needed preserving'}), ` +
      `but ${several ? 'the services are' : 'the service is'} unhealthy: ${cause.message}. The restored files were kept (rolling back would bring the damaged state back); check the service logs.`,
    { cause: error, details: { stateRestored: true, serviceError: failed[0]?.code ?? cause.code, backup: facts.backup, preservedAt: facts.preservedAt, changes: facts.changes, services: facts.services } },
  );
}
