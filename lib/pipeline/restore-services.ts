import { realpath } from 'node:fs/promises';
import { ArkError, ServiceError, toArkError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { resolve } from 'node:path';
import type { ComposeProject } from '../compose/index.ts';
import { parseDuration, withCompose, type LoadedPolicy, type Policy } from '../policy/index.ts';
import { preStartChecks, type CheckResult } from '../restore/index.ts';
import {
  checkApi,
  chooseServiceController,
  findWriters,
  type ServicesKind,
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

export interface ResolvedServices {
  policy: Readonly<Policy>;
  compose: ComposeProject | null;
  controller: ServiceController;
  kind: ServicesKind;
  /** Said once at the start: how services are managed, why, and which. */
  note: string;
}

/**
 * The policy's services completed from the compose file (--compose FILE, else the policy's
 * [compose] file in the root, read from `readFrom` when the root is not there yet), and the
 * controller that drives them (--services, else compose where it can).
 */
export async function resolveServices(o: {
  loaded: LoadedPolicy;
  root: string;
  kind: ServicesKind | undefined;
  composeFile?: string;
  readFrom?: string;
}): Promise<ResolvedServices> {
  const { policy, compose } = await withCompose(o.loaded, {
    root: o.root,
    ...(o.composeFile ? { composeFile: resolve(o.composeFile) } : {}),
    ...(o.readFrom ? { readFrom: o.readFrom } : {}),
  });
  const hint = o.loaded.policy.compose.enabled
    ? `looked for ${resolve(o.root, o.loaded.policy.compose.file)}`
    : '[compose] enabled = false in the policy';
  const chosen = await chooseServiceController(o.kind, { compose, composeHint: hint });
  const ordered = policy.start_order.flat();
  const names = [...ordered, ...Object.keys(policy.services).filter((n) => !ordered.includes(n))];
  const note = `services: ${chosen.kind} (${chosen.why})${chosen.kind === 'none' ? '' : `; ${names.length} service(s): ${names.join(', ') || 'none'}`}`;
  return { policy, compose, controller: chosen.controller, kind: chosen.kind, note };
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

/** What a restore is about to replace: the root and its root-relative patterns (the scope's paths). */
export interface SwapArea {
  root: string;
  paths: readonly string[];
}

/**
 * Stop before the swap (reverse start order); the ones that exist are started again afterwards.
 * Then every other running container that bind-mounts a part of `area` (a writer the policy
 * does not name) is stopped too, and named: nothing may write while the files go in.
 */
export async function stopForSwap(s: RestoreServices, sink: EventSink, area?: SwapArea): Promise<ServiceTarget[]> {
  if (s.controller.kind === 'none') {
    const skip = s.skipMessage ?? { service: '', message: 'services not managed (--services none)' };
    sink({ kind: 'service', service: skip.service, container: '', action: 'skip', message: skip.message });
    return [];
  }
  let present: ServiceTarget[] = [];
  try {
    if (managed(s)) present = await stopServices(s.controller, s.groups, sink);
    else if (s.skipMessage)
      sink({
        kind: 'service',
        service: s.skipMessage.service,
        container: '',
        action: 'skip',
        message: s.skipMessage.message,
      });
    if (area) present = [...present, ...(await stopWriters(s, area, present, sink))];
    return present;
  } catch (error) {
    const stoppedSoFar = (error as { stoppedSoFar?: ServiceTarget[] }).stoppedSoFar ?? present;
    await restartAfterFailure(s, stoppedSoFar, sink);
    throw error;
  }
}

async function stopWriters(
  s: RestoreServices,
  area: SwapArea,
  stopped: readonly ServiceTarget[],
  sink: EventSink,
): Promise<ServiceTarget[]> {
  if (!s.controller.runningContainers) return [];
  const roots = [area.root, await realpath(area.root).catch(() => area.root)];
  const known = new Set(stopped.map((t) => t.container));
  const writers = findWriters(await s.controller.runningContainers(), roots, area.paths).filter(
    (w) => !known.has(w.container),
  );
  const targets: ServiceTarget[] = [];
  for (const writer of writers) {
    const target = writerTarget(writer.container);
    try {
      await s.controller.stop(target);
    } catch (error) {
      throw Object.assign(toArkError(error), { stoppedSoFar: [...stopped, ...targets] });
    }
    targets.push(target);
    sink({
      kind: 'service',
      service: writer.container,
      container: writer.container,
      action: 'stop',
      message: `stopped ${writer.container}: the policy does not name it, but it bind-mounts ${writer.sources.join(', ')}, which this restore replaces`,
    });
  }
  return targets;
}

/** A container found by its mounts: started again by name after the swap, after the policy's services, health as Docker sees it. */
export function writerTarget(container: string): ServiceTarget {
  return { name: container, container, port: null, healthPath: null, healthTimeoutMs: 60_000, writer: true };
}

/** The start order for what was stopped: the policy's groups, then the writers it does not name. */
export function startOrderFor(s: RestoreServices, present: readonly ServiceTarget[]): ServiceTarget[][] {
  const groups = s.groups.map((g) => g.filter((t) => present.includes(t)));
  const inGroups = new Set(groups.flat());
  const rest = present.filter((t) => !inGroups.has(t));
  return rest.length > 0 ? [...groups, rest] : groups;
}

/** The swap failed and was rolled back: the files are as they were, so the services run again as before (best effort, no health wait). */
export async function restartAfterFailure(
  s: RestoreServices,
  present: readonly ServiceTarget[],
  sink: EventSink,
): Promise<void> {
  for (const group of startOrderFor(s, present)) {
    for (const target of group) {
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
  const groups = startOrderFor(s, present);
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
