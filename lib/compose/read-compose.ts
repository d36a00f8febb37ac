import { readFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ComposeError } from '../errors.ts';
import { InterpolationError, interpolateDeep } from './interpolate.ts';
import { startGroups } from './start-groups.ts';

// A docker-compose.yml read the way `docker compose` reads it, for what a recovery needs:
// the services, their container names, dependencies (hence the start order), healthchecks,
// published ports and bind mounts. YAML merge keys (`<<: *defaults`) and variable
// interpolation from the environment and the project's .env are applied. Anything a
// recovery cannot act on (networks, secrets, deploy) is ignored, not validated.

export interface ComposeBind {
  /** Absolute host path (relative sources resolved against the compose file's folder). */
  source: string;
  /** Path inside the container. */
  target: string;
  readOnly: boolean;
  /** Compose creates a missing source folder (implied by the short syntax; `bind.create_host_path` in the long one). */
  createHostPath: boolean;
}

export interface ComposeService {
  name: string;
  /** `container_name`, else the name Compose gives: `<project>-<service>-1`. */
  container: string;
  /** True when the compose file names `container_name` (the name is the same in every project). */
  fixedName: boolean;
  image: string | null;
  /** The service has a `build:` section: `docker compose build` can make its image. */
  build: boolean;
  /** Published ports: the container's port and the host's (null when Docker picks it). */
  ports: { container: number; host: number | null }[];
  dependsOn: { service: string; condition: 'service_started' | 'service_healthy' | 'service_completed_successfully' }[];
  /** The healthcheck Docker runs, when there is one (absent, or `disable: true`, is null). */
  healthcheck: { test: string[] } | null;
  binds: ComposeBind[];
  /** The service's mapping as read (merge keys applied, variables interpolated): what a generated file copies. */
  raw: Readonly<Record<string, unknown>>;
}

export interface ComposeProject {
  /** Absolute path of the compose file. */
  file: string;
  /** Its folder: relative paths in it are relative to this. */
  dir: string;
  /** The Compose project name (`name:`, COMPOSE_PROJECT_NAME, or the folder's name). */
  project: string;
  services: Record<string, ComposeService>;
  /** Start order: layers from depends_on, each depending only on earlier ones. */
  groups: string[][];
}

export interface ReadComposeOptions {
  /** Variables for interpolation; the process environment by default. The project's .env fills in what they lack. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The project name, as `docker compose -p` would set it. */
  project?: string;
  /**
   * Read the file, but interpret it as if it were at this path (relative bind sources, the
   * project name): a repository cloned beside the root it will become.
   */
  as?: string;
}

/** Reads and interprets a compose file. Any problem is a ComposeError (exit 2) that names the file. */
export async function readCompose(file: string, options: ReadComposeOptions = {}): Promise<ComposeProject> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ComposeError(`cannot read compose file ${path}: ${code}`, { cause: error });
  }
  const dotEnv = await readFile(resolve(dirname(path), '.env'), 'utf8').then(
    (t) => parseEnv(t) as Record<string, string>,
    () => ({}),
  );
  return parseCompose(text, {
    file: options.as === undefined ? path : resolve(options.as),
    env: { ...dotEnv, ...(options.env ?? process.env) },
    ...pickProject(options),
  });
}

function pickProject(options: ReadComposeOptions): { project?: string } {
  return options.project === undefined ? {} : { project: options.project };
}

/** Pure: the text of a compose file at `file` (for messages and relative paths). */
export function parseCompose(
  text: string,
  options: { file: string; env?: Readonly<Record<string, string | undefined>>; project?: string },
): ComposeProject {
  const file = resolve(options.file);
  const dir = dirname(file);
  const fail = (message: string, cause?: unknown): never => {
    throw new ComposeError(`${file}: ${message}`, cause === undefined ? {} : { cause });
  };
  let doc: unknown;
  try {
    doc = parseYaml(text, { merge: true, maxAliasCount: 1000 });
  } catch (error) {
    const e = error as { linePos?: { line: number; col: number }[]; message: string };
    const where = e.linePos?.[0] ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '';
    fail(`not valid YAML${where}: ${e.message.split('\n')[0]}`, error);
  }
  if (!isObject(doc)) return fail('not a compose file (expected a mapping with a "services" key)');
  let data: Record<string, unknown>;
  try {
    data = interpolateDeep(doc, options.env ?? {}) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof InterpolationError) return fail(error.message, error);
    throw error;
  }
  const rawServices = data.services;
  if (!isObject(rawServices) || Object.keys(rawServices).length === 0)
    return fail('no services defined (expected a "services" mapping)');

  const project = normaliseProject(
    options.project ??
      (typeof data.name === 'string' ? data.name : undefined) ??
      options.env?.COMPOSE_PROJECT_NAME ??
      basename(dir),
  );
  const services: Record<string, ComposeService> = {};
  for (const [name, raw] of Object.entries(rawServices)) {
    if (!isObject(raw)) return fail(`services.${name}: expected a mapping`);
    const at = (field: string, message: string): never => fail(`services.${name}.${field}: ${message}`);
    services[name] = {
      name,
      ...containerName(raw, name, project, at),
      image: typeof raw.image === 'string' ? raw.image : null,
      build: raw.build !== undefined && raw.build !== null,
      ports: readPorts(raw.ports, at),
      dependsOn: readDependsOn(raw.depends_on, at),
      healthcheck: readHealthcheck(raw.healthcheck, at),
      binds: readBinds(raw.volumes, dir, at),
      raw,
    };
  }
  const containers = new Map<string, string>();
  for (const service of Object.values(services)) {
    const other = containers.get(service.container);
    if (other) fail(`services ${other} and ${service.name} both have container_name "${service.container}"`);
    containers.set(service.container, service.name);
    for (const dep of service.dependsOn)
      if (!(dep.service in services))
        fail(`services.${service.name}.depends_on: names "${dep.service}", which is not a service of this file`);
  }
  let groups: string[][];
  try {
    groups = startGroups(new Map(Object.values(services).map((s) => [s.name, s.dependsOn.map((d) => d.service)])));
  } catch (error) {
    return fail((error as Error).message, error);
  }
  return { file, dir, project, services, groups };
}

type At = (field: string, message: string) => never;

function containerName(
  raw: Record<string, unknown>,
  name: string,
  project: string,
  at: At,
): { container: string; fixedName: boolean } {
  if (raw.container_name === undefined) return { container: `${project}-${name}-1`, fixedName: false };
  if (typeof raw.container_name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(raw.container_name))
    return at('container_name', `not a valid container name: ${JSON.stringify(raw.container_name)}`);
  return { container: raw.container_name, fixedName: true };
}

function readPorts(raw: unknown, at: At): ComposeService['ports'] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) return at('ports', 'expected a list');
  return raw.map((entry) => {
    if (isObject(entry)) {
      const container = toPort(entry.target);
      if (container === null) return at('ports', `target must be a port number, got ${JSON.stringify(entry.target)}`);
      const published = entry.published === undefined ? null : toPort(entry.published);
      return { container, host: published };
    }
    // [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]; ranges are not something a recovery probes.
    const text = String(entry).replace(/\/(tcp|udp|sctp)$/, '');
    const parts = text.startsWith('[') ? text.replace(/^\[[^\]]*\]:/, '').split(':') : text.split(':');
    const container = toPort(parts.at(-1));
    if (container === null) return at('ports', `cannot read port ${JSON.stringify(entry)}`);
    const host = parts.length >= 2 ? toPort(parts.at(-2)) : null;
    return { container, host };
  });
}

function toPort(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : null;
}

const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);

function readDependsOn(raw: unknown, at: At): ComposeService['dependsOn'] {
  if (raw === undefined || raw === null) return [];
  if (Array.isArray(raw)) {
    return raw.map((service) => {
      if (typeof service !== 'string')
        return at('depends_on', `expected service names, got ${JSON.stringify(service)}`);
      return { service, condition: 'service_started' as const };
    });
  }
  if (!isObject(raw)) return at('depends_on', 'expected a list or a mapping');
  return Object.entries(raw).map(([service, spec]) => {
    const condition = isObject(spec) && spec.condition !== undefined ? spec.condition : 'service_started';
    if (typeof condition !== 'string' || !CONDITIONS.has(condition))
      return at(`depends_on.${service}.condition`, `unknown condition ${JSON.stringify(condition)}`);
    return { service, condition: condition as ComposeService['dependsOn'][number]['condition'] };
  });
}

function readHealthcheck(raw: unknown, at: At): ComposeService['healthcheck'] {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw)) return at('healthcheck', 'expected a mapping');
  if (raw.disable === true) return null;
  const test = raw.test;
  if (typeof test === 'string') return { test: ['CMD-SHELL', test] };
  if (Array.isArray(test) && test.every((t) => typeof t === 'string')) {
    if (test[0] === 'NONE') return null;
    return { test: test as string[] };
  }
  return at('healthcheck.test', 'expected a string or a list of strings');
}

function readBinds(raw: unknown, dir: string, at: At): ComposeBind[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) return at('volumes', 'expected a list');
  const binds: ComposeBind[] = [];
  for (const entry of raw) {
    if (isObject(entry)) {
      if (entry.type !== 'bind') continue;
      if (typeof entry.source !== 'string' || typeof entry.target !== 'string')
        return at('volumes', `a bind mount needs a source and a target: ${JSON.stringify(entry)}`);
      binds.push({
        source: hostPath(entry.source, dir),
        target: entry.target,
        readOnly: entry.read_only === true,
        createHostPath: isObject(entry.bind) && entry.bind.create_host_path === true,
      });
      continue;
    }
    if (typeof entry !== 'string') return at('volumes', `cannot read volume ${JSON.stringify(entry)}`);
    const [source, target, mode] = entry.split(':');
    if (target === undefined) continue; // an anonymous volume
    // A named volume ("data:/x") lives in Docker's storage, not in the root.
    if (!(source!.startsWith('.') || source!.startsWith('/') || source!.startsWith('~'))) continue;
    binds.push({
      source: hostPath(source!, dir),
      target,
      readOnly: (mode ?? '').split(',').includes('ro'),
      createHostPath: true,
    });
  }
  return binds;
}

function hostPath(source: string, dir: string): string {
  if (source.startsWith('~/')) return resolve(process.env.HOME ?? '/', source.slice(2));
  return isAbsolute(source) ? resolve(source) : resolve(dir, source);
}

/** Compose's rule: lowercase letters, digits, dashes and underscores, starting with a letter or digit. */
function normaliseProject(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9_-]/g, '');
  return cleaned.replace(/^[^a-z0-9]+/, '') || 'default';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
