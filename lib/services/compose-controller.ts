import { execFile } from 'node:child_process';
import type { ComposeProject } from '../compose/index.ts';
import { ServiceError } from '../errors.ts';
import { dockerController, type DockerControllerOptions } from './docker-controller.ts';
import type { ServiceController, ServiceTarget } from './service-controller.ts';

/** Runs `docker <args>` and resolves with its exit code and output (never rejects for a non-zero exit). */
export type DockerCli = (args: readonly string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

export interface ComposeControllerOptions extends DockerControllerOptions {
  compose: ComposeProject;
  /** Injected for tests; the real `docker` CLI by default. */
  cli?: DockerCli;
}

/**
 * Services as the compose file describes them. Stop, health, logs and probes are the Docker
 * controller's (same container names). Start is `docker compose up -d --no-deps --no-build
 * --pull never SERVICE`: it starts a stopped container, and creates one that does not exist
 * (after a disk loss, on a new host); it never builds or pulls in the middle of a restore
 * (disk-recovery --build builds first). A container the policy renamed, or a writer the policy
 * does not name, is started by container name instead.
 */
export function composeController(options: ComposeControllerOptions): ServiceController {
  const { compose } = options;
  const docker = dockerController(options);
  const cli = options.cli ?? dockerCli;
  const composeService = (target: ServiceTarget) => {
    const service = target.writer ? undefined : compose.services[target.name];
    return service && service.container === target.container ? service : undefined;
  };
  return {
    ...docker,
    kind: 'compose',
    async start(target) {
      const service = composeService(target);
      if (!service) return docker.start(target);
      const args = composeArgs(compose, ['up', '-d', '--no-deps', '--no-build', '--pull', 'never', service.name]);
      const { code, stderr } = await cli(args);
      if (code !== 0) {
        throw new ServiceError(
          'SERVICE_START_FAILED',
          `docker ${args.join(' ')} failed (exit ${code}): ${lastLines(stderr) || 'no output'}${missingImageHint(stderr, service.build)}`,
          { details: { service: service.name, container: service.container, stderr: lastLines(stderr, 20) } },
        );
      }
    },
  };
}

/** `compose -f FILE -p PROJECT ...args`: the compose file and project always named, never guessed from the working folder. */
export function composeArgs(compose: Pick<ComposeProject, 'file' | 'project'>, args: readonly string[]): string[] {
  return ['compose', '-f', compose.file, '-p', compose.project, ...args];
}

/** Whether the Docker Compose v2 CLI (`docker compose`) is installed; its version, or null. */
export async function composeCliVersion(cli: DockerCli = dockerCli): Promise<string | null> {
  const { code, stdout } = await cli(['compose', 'version', '--short']).catch(() => ({ code: 1, stdout: '' }));
  return code === 0 ? stdout.trim() || 'unknown' : null;
}

export const dockerCli: DockerCli = (args) =>
  new Promise((resolve) => {
    execFile('docker', [...args], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (error && !stdout ? error.message : '')) });
    });
  });

function lastLines(text: string, n = 3): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}

function missingImageHint(stderr: string, buildable: boolean): string {
  if (
    !/No such image|pull access denied|not found|failed to resolve reference|image.*(missing|not present)/i.test(stderr)
  )
    return '';
  return buildable
    ? '. Its image is not on this host: build it (docker compose build, or disk-recovery --build) and run the restore again'
    : '. Its image is not on this host: load or pull it, then run the restore again';
}

/**
 * `docker compose build` (the runbook's `docker-compose build`) for the services that have a
 * build section, from the compose file at `file` (a cloned repository's, before it is placed)
 * under the project's name, so the images are the ones `up` looks for. ServiceError with the
 * build's last lines when it fails.
 */
export async function buildImages(
  compose: ComposeProject,
  options: { file?: string; cli?: DockerCli } = {},
): Promise<{ services: string[]; ms: number }> {
  const services = Object.values(compose.services)
    .filter((s) => s.build)
    .map((s) => s.name);
  if (services.length === 0) return { services, ms: 0 };
  const started = Date.now();
  const args = composeArgs({ file: options.file ?? compose.file, project: compose.project }, ['build', ...services]);
  const { code, stderr } = await (options.cli ?? dockerCli)(args);
  if (code !== 0)
    throw new ServiceError(
      'BUILD_FAILED',
      `docker ${args.join(' ')} failed (exit ${code}): ${lastLines(stderr, 5) || 'no output'}`,
      {
        details: { services, stderr: lastLines(stderr, 30) },
      },
    );
  return { services, ms: Date.now() - started };
}
