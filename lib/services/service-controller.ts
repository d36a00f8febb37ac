import { parseDuration, type Policy } from '../policy/index.ts';

// How scripts stop, start and health-check Arkalia services. `docker` drives containers by
// the names the policy gives; `none` leaves services alone (state files only).

export interface ServiceTarget {
  /** Policy name, e.g. "zeroia". */
  name: string;
  container: string;
  port: number;
  healthPath: string;
  healthTimeoutMs: number;
}

export interface HealthResult {
  healthy: boolean;
  /** How health was judged: the container's HEALTHCHECK, an HTTP probe, or "running". */
  via: 'healthcheck' | 'http' | 'running' | 'none';
  detail: string;
}

export interface ServiceController {
  readonly kind: 'docker' | 'none';
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
}

/** The policy's service that owns modules/<module>/state/, if any. */
export function serviceForModule(policy: Policy, module: string): ServiceTarget | null {
  const entry = Object.entries(policy.services).find(([name, spec]) => (spec.module ?? name) === module);
  return entry ? toTarget(entry[0], entry[1]) : null;
}

export function serviceTarget(policy: Policy, name: string): ServiceTarget {
  const spec = policy.services[name];
  if (!spec) throw new RangeError(`no service "${name}" in the policy`);
  return toTarget(name, spec);
}

function toTarget(name: string, spec: Policy['services'][string]): ServiceTarget {
  return {
    name,
    container: spec.container,
    port: spec.port,
    healthPath: spec.health_path,
    healthTimeoutMs: parseDuration(spec.health_timeout),
  };
}
