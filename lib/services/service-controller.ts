import { parseDuration, serviceModule, type Policy } from '../policy/index.ts';
import type { RunningContainer } from './find-writers.ts';

// How scripts stop, start and health-check Arkalia services. `docker` drives containers by
// the names the policy gives; `compose` does the same and starts them with `docker compose up
// -d --no-deps` (which creates a container that is gone); `none` leaves services alone.

export interface ServiceTarget {
  /** Policy name, e.g. "zeroia". */
  name: string;
  container: string;
  /** The container port health_path and the API check are asked on; null when the service has none. */
  port: number | null;
  /** An HTTP health path (policy health_path); null: Docker's health status of the container's healthcheck, else "running". */
  healthPath: string | null;
  healthTimeoutMs: number;
  /** The host paths it bind-mounts, as the policy (compose file) gives them: root-relative or absolute. */
  binds?: readonly string[];
  /** A running container the policy does not name, stopped because it bind-mounts what a restore replaces (started again as it was, by container). */
  writer?: true;
}

export interface HealthResult {
  healthy: boolean;
  /** How health was judged: the container's HEALTHCHECK, an HTTP probe, or "running". */
  via: 'healthcheck' | 'http' | 'running' | 'none';
  detail: string;
}

export interface ServiceController {
  readonly kind: 'docker' | 'compose' | 'none';
  /** Stop; resolves false when there is no such service to stop (nothing to restart later). Idempotent. */
  stop(target: ServiceTarget): Promise<boolean>;
  /** Start; idempotent (starting a running service is fine). */
  start(target: ServiceTarget): Promise<void>;
  /** Wait until healthy or `target.healthTimeoutMs` passes (then ServiceError, with the reason). */
  waitHealthy(target: ServiceTarget): Promise<HealthResult>;
  /** The last lines of the service's logs ('' when there are none). */
  logsTail(target: ServiceTarget, lines: number): Promise<string>;
  /** One GET of `path` on the service (its published port, else its container address): null when services are not managed. Status 0: unreachable. */
  probe?(target: ServiceTarget, path: string): Promise<{ url: string | null; status: number } | null>;
  /** The host paths the service bind-mounts (docker: its container's bind mounts); [] when there is no such service. */
  bindSources?(target: ServiceTarget): Promise<string[]>;
  /** The running containers and their bind mounts (to find every writer of a path); absent when services are not managed. */
  runningContainers?(): Promise<RunningContainer[]>;
}

/** The policy's service that owns modules/<module>/state/, if any. */
export function serviceForModule(policy: Policy, module: string): ServiceTarget | null {
  const entry = Object.entries(policy.services).find(([name, spec]) => serviceModule(name, spec) === module);
  return entry ? toTarget(entry[0], entry[1]) : null;
}

export function serviceTarget(policy: Policy, name: string): ServiceTarget {
  const spec = policy.services[name];
  if (!spec) throw new RangeError(`no service "${name}" in the policy`);
  return toTarget(name, spec);
}

function toTarget(name: string, spec: Policy['services'][string]): ServiceTarget {
  if (spec.container === undefined) throw new RangeError(`service "${name}" has no container name`);
  return {
    name,
    container: spec.container,
    port: spec.port ?? null,
    healthPath: spec.health_path ?? null,
    healthTimeoutMs: parseDuration(spec.health_timeout),
    ...(spec.binds ? { binds: spec.binds } : {}),
  };
}
