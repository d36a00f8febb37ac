import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { ComposeProject } from '../compose/index.ts';
import { PolicyError } from '../errors.ts';
import { serviceIssues, type Policy, type ServiceSpec } from './schema.ts';

// Compose is the source of truth for services: the root's docker-compose.yml (or --compose
// FILE, or the policy's [compose] file) gives the services, containers, start order, health
// and bind mounts; the policy's [services] and start_order override it, service by service.

export interface PolicyWithServices {
  policy: Readonly<Policy>;
  /** The compose file the services came from; null when there is none (or [compose] enabled = false). */
  compose: ComposeProject | null;
}

/**
 * The policy with its services completed from the compose file. `composeFile` (--compose) must
 * exist; the policy's own [compose] file may be absent (then the policy's [services] are all
 * there is). A compose file that cannot be read is a ComposeError (exit 2); a service left
 * without a container, or an order naming an unknown service, a PolicyError (exit 2).
 */
export async function withCompose(
  loaded: { policy: Readonly<Policy>; source: string },
  options: {
    root: string;
    composeFile?: string;
    /** Read the compose file from this folder, as if it were in the root (disk-recovery --clone: the repository, before it is placed). */
    readFrom?: string;
    env?: Readonly<Record<string, string | undefined>>;
  },
): Promise<PolicyWithServices> {
  const { policy } = loaded;
  const explicit = options.composeFile !== undefined;
  let compose: ComposeProject | null = null;
  if (explicit || policy.compose.enabled) {
    const file = options.composeFile ?? resolve(options.root, policy.compose.file);
    const from = options.readFrom && !options.composeFile ? resolve(options.readFrom, policy.compose.file) : file;
    try {
      // Loaded only when a compose file is read (its YAML parser): a backup never needs it.
      const { readCompose } = await import('../compose/index.ts');
      compose = await readCompose(from, {
        ...(from === file ? {} : { as: file }),
        ...(options.env ? { env: options.env } : {}),
        ...(policy.compose.project ? { project: policy.compose.project } : {}),
      });
    } catch (error) {
      const missing = (error as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT';
      if (explicit || !missing) throw error;
    }
  }
  return { policy: applyCompose(policy, compose, options.root, loaded.source), compose };
}

/** Pure: compose services under the policy's overrides, the start order, the runbook's API check; then the references checked. */
export function applyCompose(
  policy: Readonly<Policy>,
  compose: ComposeProject | null,
  root: string,
  sourceName = 'policy',
): Readonly<Policy> {
  const services: Record<string, ServiceSpec> = {};
  for (const service of Object.values(compose?.services ?? {})) {
    const binds = service.binds.map((b) => rootRelative(b.source, root));
    const module = binds.map((b) => /^modules\/([a-z][a-z0-9_]*)\/state\/?$/.exec(b)?.[1]).find((m) => m !== undefined);
    const port = service.ports[0]?.container;
    services[service.name] = {
      container: service.container,
      health_timeout: 'PT60S',
      binds,
      ...(module ? { module } : {}),
      ...(port ? { port } : {}),
    };
  }
  for (const [name, spec] of Object.entries(policy.services)) services[name] = { ...services[name], ...spec };
  const apiService = 'arkalia-api';
  const api =
    policy.api ??
    (compose && apiService in services ? { service: apiService, path: '/status', timeout: 'PT60S' } : undefined);
  const merged = {
    ...policy,
    services,
    start_order: policy.start_order.length > 0 || !compose ? policy.start_order : compose.groups,
    ...(api ? { api } : {}),
  } as Policy;
  const issues = serviceIssues(merged);
  if (issues.length > 0) {
    const from = compose ? ` (services from ${compose.file})` : '';
    throw new PolicyError(
      `${sourceName}: invalid services${from}:\n${issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`,
      { details: { issues: issues.map((i) => ({ path: i.path.join('.'), message: i.message })) } },
    );
  }
  for (const spec of Object.values(services)) Object.freeze(spec);
  Object.freeze(services);
  return Object.freeze(merged);
}

/** The module a service owns: its `module`, else (a service the compose file does not describe) its own name. */
export function serviceModule(name: string, spec: ServiceSpec): string | null {
  return spec.module ?? (spec.binds ? null : name);
}

function rootRelative(source: string, root: string): string {
  const rel = relative(resolve(root), source);
  if (rel === '') return '.';
  return rel.startsWith('..') || isAbsolute(rel) ? source : rel.split(sep).join('/');
}
