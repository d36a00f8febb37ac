import type Docker from 'dockerode';
import { ServiceError } from '../errors.ts';
import { demuxDockerLogs } from './demux-docker-logs.ts';
import type { HealthResult, ServiceController, ServiceTarget } from './service-controller.ts';

/** The part of dockerode this controller uses (a `new Docker()` fits; tests pass a fake). */
export interface DockerApi {
  getContainer(name: string): {
    inspect(): Promise<Docker.ContainerInspectInfo>;
    stop(options?: { t?: number }): Promise<unknown>;
    start(): Promise<unknown>;
    logs(options: { stdout: boolean; stderr: boolean; tail: number; follow?: false }): Promise<Buffer>;
  };
  listContainers?(options: { filters: { status: string[] } }): Promise<Docker.ContainerInfo[]>;
}

export interface DockerControllerOptions {
  docker?: DockerApi;
  pollMs?: number;
  /** Injected for tests: an HTTP GET returning the status code (0 when unreachable). */
  httpStatus?: (url: string) => Promise<number>;
}

/**
 * Services as Docker containers, by the names the policy gives. Health: the container's own
 * HEALTHCHECK when it has one; otherwise an HTTP probe of the policy's health path on the
 * port Docker mapped (resolved again on every probe: a restart changes mapped ports);
 * otherwise "running". dockerode is loaded on first use, so `--help`, usage errors and
 * `--services none` runs do not pay for it.
 */
export function dockerController(options: DockerControllerOptions = {}): ServiceController {
  let client: Promise<DockerApi> | undefined = options.docker ? Promise.resolve(options.docker) : undefined;
  const docker = (): Promise<DockerApi> => (client ??= import('dockerode').then(({ default: Docker }) => new Docker()));
  const container = async (target: ServiceTarget) => (await docker()).getContainer(target.container);
  const pollMs = options.pollMs ?? 250;
  const httpStatus = options.httpStatus ?? defaultHttpStatus;

  const inspect = async (target: ServiceTarget) => {
    try {
      return await (await container(target)).inspect();
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw new ServiceError(
        'DOCKER_UNAVAILABLE',
        `cannot reach the Docker engine to inspect ${target.container}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };

  return {
    kind: 'docker',
    async stop(target) {
      const info = await inspect(target);
      if (!info) return false;
      if (!info.State.Running) return true;
      try {
        await (await container(target)).stop({ t: 10 });
      } catch (error) {
        // 304: it stopped between our inspect and our stop, which is what we wanted.
        if (statusCode(error) !== 304) {
          throw new ServiceError(
            'SERVICE_STOP_FAILED',
            `could not stop container ${target.container}: ${(error as Error).message}`,
            { cause: error },
          );
        }
      }
      return true;
    },

    async start(target) {
      try {
        await (await container(target)).start();
      } catch (error) {
        const status = statusCode(error);
        if (status === 304) return;
        const why = status === 404 ? 'no such container' : (error as Error).message;
        throw new ServiceError('SERVICE_START_FAILED', `could not start container ${target.container}: ${why}`, {
          cause: error,
        });
      }
    },

    async waitHealthy(target): Promise<HealthResult> {
      const deadline = Date.now() + target.healthTimeoutMs;
      let last = 'not checked yet';
      for (;;) {
        const info = await inspect(target);
        if (!info) throw new ServiceError('SERVICE_ABSENT', `container ${target.container} does not exist`);
        const result = await judge(info, target);
        if (result.healthy) return result;
        last = result.detail;
        if (!info.State.Running && info.State.Status === 'exited') {
          throw new ServiceError(
            'SERVICE_EXITED',
            `${target.container} exited (code ${info.State.ExitCode}) instead of becoming healthy`,
          );
        }
        if (Date.now() >= deadline) {
          throw new ServiceError(
            'SERVICE_UNHEALTHY',
            `${target.container} did not become healthy within ${formatSeconds(target.healthTimeoutMs)} (last: ${last})`,
            {
              details: { container: target.container, last },
            },
          );
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    },

    async probe(target, path) {
      const info = await inspect(target);
      if (!info?.State.Running) return { url: null, status: 0 };
      const url = addressOf(info, target, path);
      return { url, status: url === null ? 0 : await httpStatus(url) };
    },

    async bindSources(target) {
      const info = await inspect(target);
      return (info?.Mounts ?? []).filter((m) => m.Type === 'bind').map((m) => m.Source);
    },

    async runningContainers() {
      const api = await docker();
      if (!api.listContainers) return [];
      let list: Docker.ContainerInfo[];
      try {
        list = await api.listContainers({ filters: { status: ['running'] } });
      } catch (error) {
        throw new ServiceError(
          'DOCKER_UNAVAILABLE',
          `cannot list the running containers to find every writer of what is restored (${(error as Error).message}): start the Docker engine, or give --services none if no container runs on this host`,
          {
            cause: error,
          },
        );
      }
      return list.map((c) => ({
        name: (c.Names[0] ?? c.Id).replace(/^\//, ''),
        bindSources: (c.Mounts ?? []).filter((m) => m.Type === 'bind').map((m) => m.Source),
      }));
    },

    async logsTail(target, lines) {
      try {
        const buffer = await (await container(target)).logs({ stdout: true, stderr: true, tail: lines, follow: false });
        return demuxDockerLogs(Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer)));
      } catch {
        return '';
      }
    },
  };

  // Where the policy names an HTTP health path, the published port is probed first: it answers
  // as soon as the service is up, while Docker runs a HEALTHCHECK only every interval (30 s in
  // Arkalia's compose file). Otherwise (or without a published port: zeroia has none) the
  // container's HEALTHCHECK decides, as Compose's service_healthy does; else "running".
  async function judge(info: Docker.ContainerInspectInfo, target: ServiceTarget): Promise<HealthResult> {
    const health = info.State.Health;
    const binding = target.port === null ? undefined : info.NetworkSettings?.Ports?.[`${target.port}/tcp`]?.[0];
    let httpDetail = '';
    if (info.State.Running && binding?.HostPort && target.healthPath !== null) {
      const url = `http://127.0.0.1:${binding.HostPort}${target.healthPath}`;
      const status = await httpStatus(url);
      if (status === 200 || !health?.Status)
        return { healthy: status === 200, via: 'http', detail: `GET ${url} → ${status || 'unreachable'}` };
      httpDetail = `; GET ${url} → ${status || 'unreachable'}`;
    }
    if (health?.Status) {
      const lastLog = health.Log?.at(-1)?.Output?.trim();
      return {
        healthy: health.Status === 'healthy',
        via: 'healthcheck',
        detail: `health ${health.Status}${lastLog ? `: ${lastLog.slice(0, 200)}` : ''}${httpDetail}`,
      };
    }
    return {
      healthy: info.State.Running,
      via: 'running',
      detail: `state ${info.State.Status} (no health check or mapped port)`,
    };
  }
}

/** The published port on this host, as the runbook's curl http://localhost:8000 used it; else the container's address on its network. */
function addressOf(info: Docker.ContainerInspectInfo, target: ServiceTarget, path: string): string | null {
  if (target.port === null) return null;
  const binding = info.NetworkSettings?.Ports?.[`${target.port}/tcp`]?.[0];
  if (binding?.HostPort) return `http://127.0.0.1:${binding.HostPort}${path}`;
  const address = Object.values(info.NetworkSettings?.Networks ?? {}).find((n) => n?.IPAddress)?.IPAddress;
  return address ? `http://${address}:${target.port}${path}` : null;
}

function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number } | null)?.statusCode;
}

function formatSeconds(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}

// A ref'd timer, not AbortSignal.timeout(): that one is unref'd, and while undici waits on a
// socket that docker-proxy accepted but nobody serves yet, nothing else may hold the event
// loop open — Node then exits 13 ("unsettled top-level await") in the middle of a restore.
async function defaultHttpStatus(url: string): Promise<number> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 2000);
  try {
    const response = await fetch(url, { signal: controller.signal });
    await response.body?.cancel();
    return response.status;
  } catch {
    return 0;
  } finally {
    clearTimeout(timer);
  }
}
