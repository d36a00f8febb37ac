import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join, relative, resolve } from 'node:path';
import Dockerode from 'dockerode';

const execFileAsync = promisify(execFile);
import { type ComposeProject, type ComposeService, readCompose } from '../../lib/compose/index.ts';
import { composeArgs, dockerCli, type DockerCli } from '../../lib/services/index.ts';
import { STANDIN_SERVICES } from '../arkalia/index.ts';
import { buildStandInImage } from '../image/index.ts';
import { createArkaliaStack, getHealthAnswer } from './arkalia-stack.ts';
import { containerPath } from './container-path.ts';
import { removeArkaliaContainers } from './remove-arkalia-containers.ts';
import { stackLabels } from './labels.ts';
import { StackStartError } from './stack-start-error.ts';
import type { ArkaliaStack, StackServiceSpec } from './types.ts';

// The stack as Compose defines it: the drill root's docker-compose.yml (six services for
// Arkalia's), started by `docker compose` from a file generated per drill. One Compose
// project per drill (ark-<runId>), host ports chosen free by Docker, bind mounts pointed at
// the drill's root, container names made unique, labels for the cleanup. A service runs its
// real image when the host has it (or `images[service]`), else the realistic stand-in
// (harness/arkalia/traits.mjs), which writes what the real one writes, the way it does.

export interface ComposeStackOptions {
  /** The drill's root (a copy): its docker-compose.yml is the stack. */
  root: string;
  runId: string;
  /** Where the generated compose file is written (outside the root). */
  work: string;
  /** --image SERVICE=IMAGE: run this image for that service (the stand-in otherwise, when the real one is not here). */
  images?: Readonly<Record<string, string>>;
  /** Defaults to the built stand-in image. */
  standIn?: string;
  /** The stand-ins' write cycle (default 300 ms). */
  writeIntervalMs?: number;
  /** zeroia's in-place write is torn for this long (default 0: the two halves back to back); a kill in the window tears the file. */
  tearMs?: number;
  /** Per service: replace its traits (comma-separated names of traits.mjs). */
  traits?: Readonly<Record<string, string>>;
  /** Until every service is healthy (default 120 s). */
  startTimeoutMs?: number;
  /**
   * Also make the stack's own repository, as a bare git repository at this path: its
   * docker-compose.yml (relative bind mounts) and a Dockerfile that rebuilds the stand-in
   * image offline (FROM the local stand-in). The stack then runs the image built from it
   * (ark-<run>-standin:drill), which a new-host drill removes and disk-recovery --build makes again.
   */
  repository?: string;
  cli?: DockerCli;
}

export interface ComposeStack extends ArkaliaStack {
  /** The generated compose file and its project: what the drill's operator scripts drive. */
  composeFile: string;
  project: string;
  compose: ComposeProject;
  /** Per service, the image it runs and whether that is the stand-in. */
  images: Record<string, { image: string; standIn: boolean }>;
}

export async function startComposeStack(o: ComposeStackOptions): Promise<ComposeStack> {
  const docker = new Dockerode();
  const cli = o.cli ?? dockerCli;
  const root = resolve(o.root);
  const source = await readCompose(join(root, 'docker-compose.yml'), { env: {} });
  const project = `ark-${o.runId}`;
  const standIn = o.standIn ?? (await buildStandInImage({ docker }));
  const images: ComposeStack['images'] = {};
  for (const service of Object.values(source.services)) {
    const wanted = o.images?.[service.name];
    const own = service.image !== null && (await hasImage(docker, service.image)) ? service.image : null;
    const image = wanted ?? own ?? standIn;
    images[service.name] = { image, standIn: image === standIn };
  }
  const file = join(o.work, `compose.${project}.json`);
  const build = o.repository ? { image: `ark-${o.runId}-standin:drill`, dockerfile: REPO_DOCKERFILE } : undefined;
  const generated = composeDocument(source, { ...o, root, project, images, ...(build ? { build } : {}) });
  await writeFile(file, `${JSON.stringify(generated, null, 2)}\n`);
  if (build) {
    await writeFile(join(o.work, REPO_DOCKERFILE), standInDockerfile(standIn));
    await makeRepository(o.repository!, {
      'docker-compose.yml': `${JSON.stringify(composeDocument(source, { ...o, root, project, images, build, relativeTo: root }), null, 2)}\n`,
      [REPO_DOCKERFILE]: standInDockerfile(standIn),
      'README.md': `Arkalia-LUNA as its drill ${project} runs it: docker compose build && docker compose up -d\n`,
    });
  }
  const compose = await readCompose(file, { env: {} });

  const specs: StackServiceSpec[] = Object.values(compose.services).map((s) => ({
    name: s.name,
    container: s.container,
    port: s.ports[0]?.container ?? STANDIN_SERVICES[s.name]?.port ?? 8000,
    mounts: s.binds.map((b) => ({ source: relative(root, b.source) || '.', target: b.target, readOnly: b.readOnly })),
  }));
  const base = createArkaliaStack({ docker, runId: o.runId, root, services: specs });
  const stop = async () => {
    await cli(composeArgs(compose, ['down', '--volumes', '--remove-orphans', '--timeout', '5']));
    await removeArkaliaContainers(o.runId, { docker });
    if (build)
      await docker
        .getImage(build.image)
        .remove()
        .catch(() => undefined);
  };
  const stack: ComposeStack = {
    ...base,
    // Each service's own health path; a service that publishes no port (zeroia) is asked on its network address.
    async health(service) {
      const spec = specs.find((s) => s.name === service);
      if (!spec) throw new Error(`No service ${service} in stack ${o.runId}`);
      const path = STANDIN_SERVICES[service]?.health ?? '/health';
      const url = await base.url(service, path).catch(async () => {
        const info = await docker
          .getContainer(spec.container)
          .inspect()
          .catch(() => null);
        const ip = info?.State.Running ? Object.values(info.NetworkSettings.Networks ?? {})[0]?.IPAddress : undefined;
        return ip ? `http://${ip}:${STANDIN_SERVICES[service]?.port ?? spec.port}${path}` : undefined;
      });
      return url === undefined ? { status: 0, body: null } : getHealthAnswer(url);
    },
    composeFile: file,
    project,
    compose,
    images,
    stop,
    [Symbol.asyncDispose]: stop,
  };
  const timeout = Math.ceil((o.startTimeoutMs ?? 120_000) / 1000);
  if (build) {
    const built = await cli(composeArgs(compose, ['build']));
    if (built.code !== 0) {
      await stop().catch(() => undefined);
      throw new StackStartError(
        project,
        project,
        `docker compose build failed (exit ${built.code}): ${built.stderr.trim().split('\n').slice(-3).join(' | ')}`,
        '',
      );
    }
  }
  const up = await cli(
    composeArgs(compose, ['up', '-d', '--no-build', '--pull', 'never', '--wait', '--wait-timeout', String(timeout)]),
  );
  if (up.code !== 0) {
    const failing = await firstUnhealthy(docker, specs);
    const logs = failing ? await base.logs(failing.name, 20).catch(() => '') : '';
    await stop().catch(() => undefined);
    throw new StackStartError(
      failing?.name ?? project,
      failing?.container ?? project,
      `docker compose up --wait failed (exit ${up.code}): ${up.stderr.trim().split('\n').slice(-3).join(' | ')}`,
      logs,
    );
  }
  return stack;
}

/** The generated compose file: the root's services with their order, health and mounts, made safe to run beside anything. */
export function composeDocument(
  source: ComposeProject,
  o: Pick<ComposeStackOptions, 'runId' | 'writeIntervalMs' | 'tearMs' | 'traits'> & {
    root: string;
    project: string;
    images: ComposeStack['images'];
    /** Stand-ins run this image, built from this Dockerfile beside the compose file. */
    build?: { image: string; dockerfile: string };
    /** Bind sources under this folder written relative to it (a repository's compose file). */
    relativeTo?: string;
  },
): Record<string, unknown> {
  const user = `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`;
  const services: Record<string, unknown> = {};
  for (const service of Object.values(source.services)) {
    const { image, standIn } = o.images[service.name]!;
    const source = (path: string) => {
      const rel = o.relativeTo ? relative(o.relativeTo, path) : '';
      return o.relativeTo && !rel.startsWith('..') ? `./${rel}` : path;
    };
    services[service.name] = {
      image: standIn && o.build ? o.build.image : image,
      ...(standIn && o.build ? { build: { context: '.', dockerfile: o.build.dockerfile } } : {}),
      container_name: `ark-${o.runId}-${service.name}`,
      labels: stackLabels(o.runId, service.name),
      user,
      // Deterministic drills: a killed container stays down until the recovery starts it.
      restart: 'no',
      // Published on loopback, the host port chosen free by Docker.
      ports: service.ports.map((p) => `127.0.0.1::${p.container}`),
      volumes: service.binds.map((b) => ({
        type: 'bind',
        source: source(b.source),
        target: b.target,
        read_only: b.readOnly,
        // As the root's own file says (the short syntax implies it): a missing folder is created, not an error.
        bind: { create_host_path: b.createHostPath },
      })),
      ...(service.dependsOn.length > 0
        ? { depends_on: Object.fromEntries(service.dependsOn.map((d) => [d.service, { condition: d.condition }])) }
        : {}),
      ...(standIn ? standInPart(service, o) : realPart(service, o.root)),
    };
  }
  return {
    name: o.project,
    services,
    networks: { default: { labels: stackLabels(o.runId) } },
  };
}

/** The stand-in plays the service: its traits, its files mapped through its mounts, a fast healthcheck. */
function standInPart(
  service: ComposeService,
  o: Pick<ComposeStackOptions, 'writeIntervalMs' | 'tearMs' | 'traits'> & { root: string },
): Record<string, unknown> {
  const profile = STANDIN_SERVICES[service.name];
  const mounts = service.binds.map((b) => ({ source: relative(o.root, b.source) || '.', target: b.target }));
  const port = service.ports[0]?.container ?? profile?.port ?? 8000;
  const environment: Record<string, string> = {
    ARK_SERVICE: service.name,
    ARK_PORT: String(port),
    ARK_HEALTH_PATH: profile?.health ?? '/health',
    ARK_WRITE_INTERVAL_MS: String(o.writeIntervalMs ?? 300),
    ARK_TEAR_MS: String(o.tearMs ?? 0),
    ...(o.traits?.[service.name] ? { ARK_TRAITS: o.traits[service.name]! } : {}),
  };
  // A file the service does not bind-mount lives in the container only (reflexia's state): lost with it.
  for (const [role, rel] of Object.entries(profile?.files ?? {}))
    environment[`ARK_FILE_${role.toUpperCase()}`] = containerPath(mounts, rel) ?? `/tmp/${rel}`;
  return {
    environment,
    // Checked every second, so a drill sees a service come up at once. A start period
    // (failures meanwhile do not count; the first success is healthy at once) and ten failed
    // checks in a row before unhealthy: on a loaded machine (a disk stall, the unit tests
    // beside the drills) a stand-in can miss a few seconds of checks, and a booted test
    // restore was failed for it. Drills see a service go through its HTTP probes, not this.
    healthcheck: {
      test: ['CMD', '/usr/local/bin/node', '/app/healthcheck.mjs'],
      interval: '1s',
      timeout: '5s',
      retries: 10,
      start_period: '60s',
    },
  };
}

/** A real image runs as the root's compose file says (command, environment, healthcheck). */
function realPart(service: ComposeService, root: string): Record<string, unknown> {
  const keep = ['command', 'entrypoint', 'environment', 'working_dir', 'healthcheck'] as const;
  const out: Record<string, unknown> = {};
  for (const key of keep) if (service.raw[key] !== undefined) out[key] = service.raw[key];
  const envFile = service.raw.env_file;
  if (envFile !== undefined)
    out.env_file = (Array.isArray(envFile) ? envFile : [envFile]).map((f) =>
      typeof f === 'string' ? resolve(root, f) : f,
    );
  return out;
}

async function hasImage(docker: Dockerode, image: string): Promise<boolean> {
  return docker
    .getImage(image)
    .inspect()
    .then(
      () => true,
      () => false,
    );
}

/** The service that failed: one compose could not create, else one that exited, else one unhealthy (its dependents wait in "created"). */
async function firstUnhealthy(
  docker: Dockerode,
  specs: readonly StackServiceSpec[],
): Promise<StackServiceSpec | undefined> {
  let best: { spec: StackServiceSpec; rank: number } | undefined;
  for (const spec of specs) {
    const info = await docker
      .getContainer(spec.container)
      .inspect()
      .catch(() => null);
    const rank = !info
      ? 4
      : info.State.Status === 'exited' || info.State.Status === 'dead'
        ? 3
        : info.State.Health && info.State.Health.Status !== 'healthy' && info.State.Running
          ? 2
          : !info.State.Running
            ? 1
            : 0;
    if (rank > 0 && (best === undefined || rank > best.rank)) best = { spec, rank };
  }
  return best?.spec;
}

const REPO_DOCKERFILE = 'Dockerfile.arkalia-dr-standin';

/** Rebuilds the stand-in offline: FROM the local image, nothing to pull. */
function standInDockerfile(standIn: string): string {
  return `FROM ${standIn}\nLABEL org.arkalia-dr=true\n`;
}

/** A bare git repository at `path` holding `files` in one commit. */
async function makeRepository(path: string, files: Record<string, string>): Promise<void> {
  const tree = await mkdtemp(join(tmpdir(), 'ark-repo-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(tree, name), text);
    const git = (cwd: string, ...args: string[]) =>
      execFileAsync('git', args, {
        cwd,
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: 'arkalia-dr',
          GIT_AUTHOR_EMAIL: 'drill@arkalia-dr',
          GIT_COMMITTER_NAME: 'arkalia-dr',
          GIT_COMMITTER_EMAIL: 'drill@arkalia-dr',
        },
      });
    await git(tree, 'init', '-q', '-b', 'main');
    await git(tree, 'add', '.');
    await git(tree, 'commit', '-q', '-m', 'Arkalia-LUNA stack (drill)');
    await git(tree, 'clone', '-q', '--bare', tree, path);
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
}
