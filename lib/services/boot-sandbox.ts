import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { ComposeProject } from '../compose/index.ts';
import { ServiceError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { composeArgs, dockerCli, type DockerCli } from './compose-controller.ts';

// The weekly test restore, booted (the runbook's "test restauration sur environnement test";
// what Veeam SureBackup and AWS Backup restore testing do): a separate Compose project on the
// sandbox, with the same images, its own network, no published ports and no fixed container
// names, so that nothing of it can reach, rename or replace the live stack. It is torn down
// whatever happens.

export const BOOT_LABEL = 'org.arkalia-dr.boot';

export interface BootReport {
  project: string;
  file: string;
  ok: boolean;
  /** Why it did not come up, when it did not. */
  error: string | null;
  services: { name: string; image: string; container: string; health: string; mounts: string[] }[];
  /** Parts of the compose file left out of the sandbox project (named volumes, binds outside the root: read-only). */
  adjustments: string[];
  ms: { up: number; down: number };
}

/**
 * Pure: the live compose project as a sandbox project. Bind mounts inside the live root point
 * into the sandbox instead; a bind mount outside it (a models folder) stays, read-only; named
 * volumes are left out (they would be the sandbox project's own, empty); ports, container
 * names, networks, restart policies and build sections go. Services that are only built get
 * the image name the live project gave them.
 */
export function sandboxComposeDocument(
  compose: ComposeProject,
  o: { liveRoot: string; sandbox: string; project: string },
): { document: Record<string, unknown>; adjustments: string[] } {
  const adjustments: string[] = [];
  const liveRoot = resolve(o.liveRoot);
  const services: Record<string, unknown> = {};
  for (const service of Object.values(compose.services)) {
    const raw = { ...service.raw } as Record<string, unknown>;
    for (const key of ['container_name', 'ports', 'networks', 'restart', 'build', 'volumes', 'network_mode', 'links'])
      delete raw[key];
    const volumes = service.binds.map((b) => {
      const rel = relative(liveRoot, b.source);
      const inside = !rel.startsWith('..') && !isAbsolute(rel);
      if (!inside) adjustments.push(`${service.name}: ${b.source} (outside the root) mounted read-only`);
      return {
        type: 'bind',
        source: inside ? join(o.sandbox, rel) : b.source,
        target: b.target,
        read_only: inside ? b.readOnly : true,
      };
    });
    const named = (Array.isArray(service.raw.volumes) ? service.raw.volumes : []).length - service.binds.length;
    if (named > 0) adjustments.push(`${service.name}: ${named} named or anonymous volume(s) left out`);
    const envFile = service.raw.env_file;
    services[service.name] = {
      ...raw,
      image: service.image ?? `${compose.project}-${service.name}`,
      volumes,
      restart: 'no',
      labels: { ...labelsOf(service.raw.labels), [BOOT_LABEL]: o.project },
      ...(envFile === undefined
        ? {}
        : {
            env_file: (Array.isArray(envFile) ? envFile : [envFile]).map((f) =>
              typeof f === 'string' ? join(o.sandbox, relative(compose.dir, resolve(compose.dir, f))) : f,
            ),
          }),
    };
  }
  return { document: { name: o.project, services }, adjustments };
}

/**
 * Boot the sandbox: `docker compose up -d --wait` of its project (health-gated by the compose
 * healthchecks, within `timeoutMs`), record each container (image, health, mounts), then
 * `down --volumes`, always. `ok` false (not a throw) when it did not come up: the caller
 * reports it; a missing Compose CLI or engine is a ServiceError.
 */
export async function bootSandbox(o: {
  compose: ComposeProject;
  liveRoot: string;
  sandbox: string;
  /** Where the sandbox compose file is written (outside the sandbox tree, which is the backup's). */
  workDir: string;
  timeoutMs: number;
  sink: EventSink;
  cli?: DockerCli;
  docker?: Pick<Docker, 'getContainer'>;
  project?: string;
  /** How long a service found not healthy right after `up --wait` is looked at again (default 15 s). */
  settleMs?: number;
}): Promise<BootReport> {
  const cli = o.cli ?? dockerCli;
  const project = o.project ?? `ark-boot-${process.pid}-${Date.now().toString(36)}`;
  const file = join(o.workDir, `${project}.compose.json`);
  const { document, adjustments } = sandboxComposeDocument(o.compose, {
    liveRoot: o.liveRoot,
    sandbox: o.sandbox,
    project,
  });
  await writeFile(file, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o600 });
  // What the services mount but a test restore does not restore (logs/): created empty in the sandbox.
  for (const service of Object.values(document.services as Record<string, { volumes: { source: string }[] }>))
    for (const { source } of service.volumes) {
      const rel = relative(o.sandbox, source);
      if (rel.startsWith('..') || isAbsolute(rel) || (await exists(source))) continue;
      await mkdir(source, { recursive: true });
      adjustments.push(`${rel}/ created empty in the sandbox (mounted, not restored)`);
    }
  for (const a of adjustments) o.sink({ kind: 'info', message: `boot: ${a}` });
  const target = { file, project };
  const report: BootReport = {
    project,
    file,
    ok: false,
    error: null,
    services: [],
    adjustments,
    ms: { up: 0, down: 0 },
  };
  o.sink({
    kind: 'step',
    step: 'boot',
    message: `booting the restored sandbox as Compose project ${project} (own network, no published ports)`,
  });
  const started = Date.now();
  try {
    const up = await cli(
      composeArgs(target, [
        'up',
        '-d',
        '--no-build',
        '--pull',
        'never',
        '--wait',
        '--wait-timeout',
        String(Math.ceil(o.timeoutMs / 1000)),
      ]),
    );
    if (up.code === 127)
      throw new ServiceError('COMPOSE_CLI_MISSING', `--boot needs docker compose: ${up.stderr.trim()}`);
    report.ms.up = Date.now() - started;
    report.services = await describe(o.compose, project, o.docker);
    // Compose saw every service healthy; one found otherwise a moment later missed checks it
    // answered late (a loaded machine): it is looked at again for a few seconds before it counts.
    const settle = o.settleMs ?? 15_000;
    for (let waited = 0; up.code === 0 && !allUp(report.services) && waited < settle; waited += SETTLE_POLL_MS) {
      await sleep(SETTLE_POLL_MS);
      report.services = await describe(o.compose, project, o.docker);
    }
    report.ok = up.code === 0 && allUp(report.services);
    if (!report.ok)
      report.error =
        up.code === 0
          ? `not every service stayed healthy after docker compose up --wait: ${report.services
              .filter((s) => !isUp(s))
              .map((s) => `${s.name} ${s.health}`)
              .join(', ')}`
          : `docker compose up --wait failed (exit ${up.code}): ${up.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    o.sink({
      kind: report.ok ? 'info' : 'warning',
      ...(report.ok ? {} : { code: 'BOOT_FAILED' }),
      message: report.ok
        ? `boot: ${report.services.length} service(s) up on the restored state in ${(report.ms.up / 1000).toFixed(1)} s: ${report.services.map((s) => `${s.name} ${s.health}`).join(', ')}`
        : `boot: the restored sandbox did not come up: ${report.error}`,
    } as Parameters<EventSink>[0]);
  } finally {
    const t = Date.now();
    await cli(composeArgs(target, ['down', '--volumes', '--remove-orphans', '--timeout', '5']));
    report.ms.down = Date.now() - t;
  }
  return report;
}

const SETTLE_POLL_MS = 500;
const isUp = (s: BootReport['services'][number]) => s.health === 'healthy' || s.health === 'running';
const allUp = (services: BootReport['services']) => services.every(isUp);

async function describe(
  compose: ComposeProject,
  project: string,
  docker: Pick<Docker, 'getContainer'> | undefined,
): Promise<BootReport['services']> {
  const client = docker ?? new (await import('dockerode')).default();
  const out: BootReport['services'] = [];
  for (const name of Object.keys(compose.services)) {
    const container = `${project}-${name}-1`;
    const info = await client
      .getContainer(container)
      .inspect()
      .catch(() => null);
    out.push({
      name,
      container,
      image: info?.Config.Image ?? '?',
      health: info ? (info.State.Health?.Status ?? (info.State.Running ? 'running' : info.State.Status)) : 'absent',
      mounts: (info?.Mounts ?? []).filter((m) => m.Type === 'bind').map((m) => m.Source),
    });
  }
  return out;
}

function labelsOf(raw: unknown): Record<string, string> {
  if (Array.isArray(raw))
    return Object.fromEntries(raw.map((l) => String(l).split('=')).map(([k, ...v]) => [k!, v.join('=')]));
  return raw && typeof raw === 'object' ? (raw as Record<string, string>) : {};
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}
