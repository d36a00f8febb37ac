import { ServiceError, toArkError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import type { Policy } from '../policy/index.ts';
import { serviceTarget, type HealthResult, type ServiceController, type ServiceTarget } from './service-controller.ts';

export interface ServiceOutcome {
  name: string;
  container: string;
  health: HealthResult | null;
  /** Why it did not become healthy, when it did not (the ServiceError's code and message). */
  error: string | null;
  errorCode: string | null;
  /** From its start to healthy (or to the failure). */
  ms: number;
}

/** The policy's start order as groups of targets; services it does not list start last, together. */
export function serviceGroups(policy: Policy): ServiceTarget[][] {
  const listed = new Set(policy.start_order.flat());
  const groups = policy.start_order.map((group) => group.map((name) => serviceTarget(policy, name)));
  const rest = Object.keys(policy.services)
    .filter((name) => !listed.has(name))
    .sort();
  return rest.length > 0 ? [...groups, rest.map((name) => serviceTarget(policy, name))] : groups;
}

/**
 * Stop every service, last group first (the reverse of the start order), the services of a
 * group in parallel. Returns the ones that exist (a missing container has nothing to stop,
 * and nothing to start again later).
 */
export async function stopServices(
  controller: ServiceController,
  groups: readonly ServiceTarget[][],
  sink: EventSink,
): Promise<ServiceTarget[]> {
  const present: ServiceTarget[] = [];
  for (const group of [...groups].reverse()) {
    const stopped = await Promise.allSettled(group.map((target) => controller.stop(target)));
    group.forEach((target, i) => {
      const result = stopped[i]!;
      if (result.status === 'rejected') return;
      if (result.value) present.push(target);
      sink({
        kind: 'service',
        service: target.name,
        container: target.container,
        action: result.value ? 'stop' : 'absent',
        message: result.value
          ? `stopped ${target.container}`
          : `container ${target.container} not found: nothing to stop or restart`,
      });
    });
    const failed = stopped.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    // The caller starts again what was stopped: the files have not been touched yet.
    if (failed) throw Object.assign(toArkError(failed.reason), { stoppedSoFar: present });
  }
  return present;
}

/**
 * Start the groups in order, the services of a group in parallel, and wait until every one
 * of them is healthy (each within its policy health_timeout) before the next group starts:
 * health gates, not fixed sleeps. A service that does not become healthy stops the sequence
 * (later groups are not started) with a ServiceError naming every failure and its timeout.
 */
export async function startServices(
  controller: ServiceController,
  groups: readonly ServiceTarget[][],
  sink: EventSink,
  options: { signal?: AbortSignal } = {},
): Promise<ServiceOutcome[]> {
  const outcomes: ServiceOutcome[] = [];
  for (const [i, group] of groups.entries()) {
    if (group.length === 0) continue;
    if (options.signal?.aborted)
      throw new ServiceError(
        'SERVICES_INTERRUPTED',
        `interrupted before starting ${group.map((t) => t.container).join(', ')}`,
      );
    const results = await Promise.all(group.map((target) => startOne(controller, target, sink, options.signal)));
    outcomes.push(...results);
    const failed = results.filter((r) => r.error !== null);
    if (failed.length > 0) {
      const later = groups
        .slice(i + 1)
        .flat()
        .map((t) => t.container);
      throw new ServiceError(
        'SERVICES_UNHEALTHY',
        `${failed.map((f) => f.error).join('; ')}${later.length > 0 ? `. Not started (later in the start order): ${later.join(', ')}` : ''}`,
        {
          details: {
            services: outcomes,
            failed: failed.map((f) => ({ container: f.container, code: f.errorCode, message: f.error })),
            notStarted: later,
          },
        },
      );
    }
  }
  return outcomes;
}

async function startOne(
  controller: ServiceController,
  target: ServiceTarget,
  sink: EventSink,
  signal?: AbortSignal,
): Promise<ServiceOutcome> {
  const started = Date.now();
  try {
    await controller.start(target);
    sink({
      kind: 'service',
      service: target.name,
      container: target.container,
      action: 'start',
      message: `started ${target.container}, waiting for health (up to ${Math.round(target.healthTimeoutMs / 1000)} s)`,
    });
    const health = await untilAborted(
      controller.waitHealthy(target),
      signal,
      `interrupted while waiting for ${target.container} to become healthy`,
    );
    sink({
      kind: 'service',
      service: target.name,
      container: target.container,
      action: 'healthy',
      message: `${target.container} healthy (${health.detail}) after ${((Date.now() - started) / 1000).toFixed(1)} s`,
    });
    return {
      name: target.name,
      container: target.container,
      health,
      error: null,
      errorCode: null,
      ms: Date.now() - started,
    };
  } catch (error) {
    const { code, message } = toArkError(error); // reported by the ServiceError that stops the sequence
    return {
      name: target.name,
      container: target.container,
      health: null,
      error: message,
      errorCode: code,
      ms: Date.now() - started,
    };
  }
}

/** A health wait an operator can interrupt (Ctrl-C) without waiting out its timeout. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, message: string): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new ServiceError('SERVICES_INTERRUPTED', message));
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(new ServiceError('SERVICES_INTERRUPTED', message));
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}
