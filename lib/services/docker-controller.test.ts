import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../errors.ts';
import { join } from 'node:path';
import { readCompose } from '../compose/index.ts';
import { applyCompose, resolvePolicy } from '../policy/index.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';
import { dockerController, type DockerApi } from './docker-controller.ts';
import { serviceForModule, type ServiceTarget } from './service-controller.ts';

// A fake engine shaped like dockerode: getContainer(name) returns a fresh handle whose calls
// go to the same container record; errors carry `statusCode` as dockerode's do.

interface FakeContainer {
  /** Successive inspect results; the last one repeats. */
  states: Partial<Docker.ContainerInspectInfo['State']>[];
  ports?: Record<string, { HostIp: string; HostPort: string }[]>[];
  stopError?: number;
  startError?: number;
  logs?: Buffer;
  mounts?: { Type: string; Source: string; Destination: string }[];
}

function engine(containers: Record<string, FakeContainer>, options: { down?: boolean } = {}) {
  const calls: string[] = [];
  const inspections = new Map<string, number>();
  const fail = (statusCode: number, message: string) =>
    Object.assign(new Error(`(HTTP code ${statusCode}) ${message}`), { statusCode });
  const docker: DockerApi = {
    getContainer(name) {
      const c = containers[name];
      return {
        async inspect() {
          calls.push(`inspect ${name}`);
          if (options.down) throw Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' });
          if (!c) throw fail(404, `no such container - ${name}`);
          const i = inspections.get(name) ?? 0;
          inspections.set(name, i + 1);
          const state = c.states[Math.min(i, c.states.length - 1)]!;
          const ports = c.ports?.[Math.min(i, c.ports.length - 1)] ?? {};
          return {
            Name: `/${name}`,
            State: { Running: true, Status: 'running', ExitCode: 0, ...state },
            NetworkSettings: { Ports: ports },
            Mounts: c.mounts ?? [],
          } as unknown as Docker.ContainerInspectInfo;
        },
        async stop(opts) {
          calls.push(`stop ${name} t=${opts?.t}`);
          if (c?.stopError) throw fail(c.stopError, 'stop failed');
        },
        async start() {
          calls.push(`start ${name}`);
          if (!c) throw fail(404, `no such container - ${name}`);
          if (c.startError) throw fail(c.startError, 'start failed');
        },
        async logs(opts) {
          calls.push(`logs ${name} tail=${opts.tail}`);
          return c?.logs ?? Buffer.alloc(0);
        },
      };
    },
  };
  return { docker, calls };
}

const target = (over: Partial<ServiceTarget> = {}): ServiceTarget => ({
  name: 'zeroia',
  container: 'zeroia',
  port: 8000,
  healthPath: '/health',
  healthTimeoutMs: 60_000,
  ...over,
});

function frame(stream: 1 | 2, text: string): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([header, Buffer.from(text)]);
}

describe('dockerController.stop / start', () => {
  it('stops a running container by the name the policy maps the module to', async () => {
    const compose = await readCompose(join(SAMPLE_ROOT, 'docker-compose.yml'), { env: {} });
    const policy = applyCompose(
      resolvePolicy({ services: { zeroia: { container: 'ark-prod-zeroia' } } }, 'test'),
      compose,
      SAMPLE_ROOT,
    );
    const service = serviceForModule(policy, 'zeroia')!;
    expect(serviceForModule(policy, 'cognitive_reactor')?.container).toBe('cognitive-reactor'); // it mounts modules/cognitive_reactor/state
    expect(serviceForModule(policy, 'helloria')).toBeNull(); // arkalia-api mounts no module state folder
    const { docker, calls } = engine({ 'ark-prod-zeroia': { states: [{ Running: true }] } });
    expect(await dockerController({ docker }).stop(service)).toBe(true);
    expect(calls).toEqual(['inspect ark-prod-zeroia', 'stop ark-prod-zeroia t=10']);
  });

  it('returns false for a missing container (404) without trying to stop it', async () => {
    const { docker, calls } = engine({});
    expect(await dockerController({ docker }).stop(target())).toBe(false);
    expect(calls).toEqual(['inspect zeroia']);
  });

  it('treats an already stopped container as stopped, and tolerates 304 from stop', async () => {
    const stopped = engine({ zeroia: { states: [{ Running: false, Status: 'exited' }] } });
    expect(await dockerController({ docker: stopped.docker }).stop(target())).toBe(true);
    expect(stopped.calls).toEqual(['inspect zeroia']);
    const raced = engine({ zeroia: { states: [{ Running: true }], stopError: 304 } });
    expect(await dockerController({ docker: raced.docker }).stop(target())).toBe(true);
  });

  it('fails with a ServiceError naming the container when stop fails or the engine is unreachable', async () => {
    const broken = engine({ zeroia: { states: [{ Running: true }], stopError: 500 } });
    await expect(dockerController({ docker: broken.docker }).stop(target())).rejects.toMatchObject({
      code: 'SERVICE_STOP_FAILED',
      exitCode: 1,
      message: expect.stringContaining('zeroia'),
    });
    const down = engine({ zeroia: { states: [{}] } }, { down: true });
    const error = await dockerController({ docker: down.docker })
      .stop(target())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({
      code: 'DOCKER_UNAVAILABLE',
      message: expect.stringMatching(/cannot reach the Docker engine to inspect zeroia: connect ENOENT/),
    });
  });

  it('start tolerates 304 (already running) and names a missing container', async () => {
    const running = engine({ zeroia: { states: [{}], startError: 304 } });
    await expect(dockerController({ docker: running.docker }).start(target())).resolves.toBeUndefined();
    const { docker } = engine({});
    await expect(dockerController({ docker }).start(target())).rejects.toMatchObject({
      code: 'SERVICE_START_FAILED',
      message: 'could not start container zeroia: no such container',
    });
  });
});

describe('dockerController.waitHealthy', () => {
  it('without a published port, honours the container HEALTHCHECK and does not probe HTTP', async () => {
    const probed: string[] = [];
    const { docker } = engine({
      zeroia: {
        states: [
          { Health: { Status: 'starting', FailingStreak: 0, Log: [] } },
          { Health: { Status: 'starting', FailingStreak: 0, Log: [] } },
          {
            Health: { Status: 'healthy', FailingStreak: 0, Log: [{ Start: '', End: '', ExitCode: 0, Output: 'ok\n' }] },
          },
        ],
        ports: [{}],
      },
    });
    const controller = dockerController({ docker, pollMs: 1, httpStatus: async (url) => (probed.push(url), 200) });
    expect(await controller.waitHealthy(target())).toEqual({
      healthy: true,
      via: 'healthcheck',
      detail: 'health healthy: ok',
    });
    expect(probed).toEqual([]);
  });

  it('with a published port, a 200 on the health path counts before Docker runs its next HEALTHCHECK', async () => {
    const { docker } = engine({
      zeroia: {
        states: [{ Health: { Status: 'starting', FailingStreak: 0, Log: [] } }],
        ports: [{ '8000/tcp': [{ HostIp: '0.0.0.0', HostPort: '49200' }] }],
      },
    });
    const answers = [503, 200];
    const controller = dockerController({ docker, pollMs: 1, httpStatus: async () => answers.shift() ?? 200 });
    expect(await controller.waitHealthy(target())).toEqual({
      healthy: true,
      via: 'http',
      detail: 'GET http://127.0.0.1:49200/health → 200',
    });
    expect(answers).toEqual([]);
  });

  it('without a HEALTHCHECK, probes the health path on the mapped port, re-reading the mapping each time', async () => {
    const { docker } = engine({
      zeroia: {
        states: [{}],
        ports: [
          { '8000/tcp': [{ HostIp: '0.0.0.0', HostPort: '49201' }] },
          { '8000/tcp': [{ HostIp: '0.0.0.0', HostPort: '49202' }] },
        ],
      },
    });
    const probed: string[] = [];
    const answers = [503, 200];
    const controller = dockerController({
      docker,
      pollMs: 1,
      httpStatus: async (url) => (probed.push(url), answers.shift() ?? 200),
    });
    expect(await controller.waitHealthy(target())).toMatchObject({
      healthy: true,
      via: 'http',
      detail: 'GET http://127.0.0.1:49202/health → 200',
    });
    expect(probed).toEqual(['http://127.0.0.1:49201/health', 'http://127.0.0.1:49202/health']);
  });

  it('times out with a ServiceError naming the container and the last state seen', async () => {
    const { docker } = engine({
      zeroia: {
        states: [
          {
            Health: {
              Status: 'unhealthy',
              FailingStreak: 3,
              Log: [{ Start: '', End: '', ExitCode: 1, Output: 'state file invalid\n' }],
            },
          },
        ],
      },
    });
    const started = Date.now();
    const error = await dockerController({ docker, pollMs: 5 })
      .waitHealthy(target({ healthTimeoutMs: 60 }))
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({
      code: 'SERVICE_UNHEALTHY',
      exitCode: 1,
      message: 'zeroia did not become healthy within 60 ms (last: health unhealthy: state file invalid)',
    });

    const silent = engine({
      'arkalia-api': { states: [{}], ports: [{ '8000/tcp': [{ HostIp: '0.0.0.0', HostPort: '49203' }] }] },
    });
    await expect(
      dockerController({ docker: silent.docker, pollMs: 5, httpStatus: async () => 0 }).waitHealthy(
        target({ container: 'arkalia-api', healthTimeoutMs: 30 }),
      ),
    ).rejects.toThrow(
      /^arkalia-api did not become healthy within 30 ms \(last: GET http:\/\/127\.0\.0\.1:49203\/health → unreachable\)$/,
    );
  });

  it('stops waiting as soon as the container exits, and fails for a container that is gone', async () => {
    const exited = engine({ zeroia: { states: [{ Running: false, Status: 'exited', ExitCode: 2 }] } });
    await expect(dockerController({ docker: exited.docker, pollMs: 1 }).waitHealthy(target())).rejects.toMatchObject({
      code: 'SERVICE_EXITED',
      message: 'zeroia exited (code 2) instead of becoming healthy',
    });
    const { docker } = engine({});
    await expect(dockerController({ docker }).waitHealthy(target())).rejects.toMatchObject({ code: 'SERVICE_ABSENT' });
  });

  it('counts a running container without health check or mapped port as healthy, and says how it judged', async () => {
    const { docker } = engine({ zeroia: { states: [{}] } });
    expect(await dockerController({ docker }).waitHealthy(target())).toEqual({
      healthy: true,
      via: 'running',
      detail: 'state running (no health check or mapped port)',
    });
  });
});

describe('dockerController.logsTail', () => {
  it('asks for the tail and demultiplexes stdout/stderr frames', async () => {
    const { docker, calls } = engine({
      zeroia: { states: [{}], logs: Buffer.concat([frame(1, 'loaded state\n'), frame(2, 'warn: x\n')]) },
    });
    expect(await dockerController({ docker }).logsTail(target(), 10)).toBe('loaded state\nwarn: x\n');
    expect(calls).toEqual(['logs zeroia tail=10']);
  });
});

describe('dockerController.bindSources', () => {
  it('lists the host folders a container bind-mounts (not its volumes); none for a missing container', async () => {
    const mounts = [
      { Type: 'bind', Source: '/srv/arkalia/logs', Destination: '/app/logs' },
      { Type: 'volume', Source: '/var/lib/docker/volumes/x/_data', Destination: '/data' },
      { Type: 'bind', Source: '/srv/arkalia/modules/zeroia/state', Destination: '/app/modules/zeroia/state' },
    ];
    const { docker } = engine({ zeroia: { states: [{ Running: false, Status: 'exited' }], mounts } });
    expect(await dockerController({ docker }).bindSources!(target())).toEqual([
      '/srv/arkalia/logs',
      '/srv/arkalia/modules/zeroia/state',
    ]);
    expect(await dockerController({ docker: engine({}).docker }).bindSources!(target())).toEqual([]);
  });
});

describe('dockerController.probe (the API check)', () => {
  const api = (info: Record<string, unknown> | null): DockerApi => ({
    getContainer: () => ({
      inspect: async () => {
        if (info === null) throw Object.assign(new Error('no such container'), { statusCode: 404 });
        return info as unknown as Docker.ContainerInspectInfo;
      },
      stop: async () => undefined,
      start: async () => undefined,
      logs: async () => Buffer.alloc(0),
    }),
  });
  const helloria = target({ name: 'helloria', container: 'arkalia-api' });

  it('GETs the path on the published port, else on the container address, and says when it cannot', async () => {
    const seen: string[] = [];
    const httpStatus = async (url: string) => (seen.push(url), 200);
    const published = {
      State: { Running: true },
      NetworkSettings: { Ports: { '8000/tcp': [{ HostIp: '0.0.0.0', HostPort: '8000' }] } },
    };
    expect(await dockerController({ docker: api(published), httpStatus }).probe!(helloria, '/status')).toEqual({
      url: 'http://127.0.0.1:8000/status',
      status: 200,
    });
    const networked = {
      State: { Running: true },
      NetworkSettings: { Ports: {}, Networks: { arkalia: { IPAddress: '172.18.0.5' } } },
    };
    expect(await dockerController({ docker: api(networked), httpStatus }).probe!(helloria, '/status')).toEqual({
      url: 'http://172.18.0.5:8000/status',
      status: 200,
    });
    expect(
      await dockerController({ docker: api({ State: { Running: false } }), httpStatus }).probe!(helloria, '/status'),
    ).toEqual({ url: null, status: 0 });
    expect(await dockerController({ docker: api(null), httpStatus }).probe!(helloria, '/status')).toEqual({
      url: null,
      status: 0,
    });
    expect(seen).toEqual(['http://127.0.0.1:8000/status', 'http://172.18.0.5:8000/status']);
  });
});
