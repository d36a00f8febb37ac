import type Docker from 'dockerode';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCompose } from '../compose/index.ts';
import { applyCompose, resolvePolicy } from '../policy/index.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';
import { composeController, composeCliVersion, type DockerCli } from './compose-controller.ts';
import type { DockerApi } from './docker-controller.ts';
import { serviceTarget, type ServiceTarget } from './service-controller.ts';

const compose = await readCompose(join(SAMPLE_ROOT, 'docker-compose.yml'), { env: {} });

function fakes(cliAnswer: { code: number; stderr?: string } = { code: 0 }) {
  const calls: string[] = [];
  const cli: DockerCli = async (args) => (
    calls.push(`docker ${args.join(' ')}`), { stdout: '', stderr: '', ...cliAnswer }
  );
  const docker: DockerApi = {
    getContainer: (name) => ({
      inspect: async () => ({ State: { Running: true } }) as unknown as Docker.ContainerInspectInfo,
      stop: async () => calls.push(`stop ${name}`),
      start: async () => calls.push(`start ${name}`),
      logs: async () => Buffer.alloc(0),
    }),
    listContainers: async () =>
      [
        {
          Id: 'a1',
          Names: ['/sandozia'],
          Mounts: [
            { Type: 'bind', Source: `${SAMPLE_ROOT}/state` },
            { Type: 'volume', Source: '/var/lib/docker/volumes/x' },
          ],
        },
      ] as unknown as Docker.ContainerInfo[],
  };
  return { calls, controller: composeController({ compose, cli, docker }) };
}

const policy = applyCompose(resolvePolicy({}, 'test'), compose, SAMPLE_ROOT);

describe('composeController', () => {
  it('starts a compose service with up -d --no-deps (creating it if it is gone), never building or pulling, file and project named', async () => {
    const { calls, controller } = fakes();
    expect(controller.kind).toBe('compose');
    await controller.start(serviceTarget(policy, 'zeroia'));
    expect(calls).toEqual([
      `docker compose -f ${compose.file} -p arkalia-luna-pro up -d --no-deps --no-build --pull never zeroia`,
    ]);
  });

  it('starts by container name a service the policy renamed, and a writer the policy does not name', async () => {
    const { calls, controller } = fakes();
    const renamed = applyCompose(
      resolvePolicy({ services: { zeroia: { container: 'prod-zeroia' } } }, 't'),
      compose,
      SAMPLE_ROOT,
    );
    await controller.start(serviceTarget(renamed, 'zeroia'));
    const writer: ServiceTarget = {
      name: 'zeroia',
      container: 'zeroia',
      port: null,
      healthPath: null,
      healthTimeoutMs: 1,
      writer: true,
    };
    await controller.start(writer);
    expect(calls).toEqual(['start prod-zeroia', 'start zeroia']);
  });

  it('a failed up names the command, its error, and what to do about a missing image', async () => {
    const { controller } = fakes({
      code: 1,
      stderr: 'Error response from daemon: No such image: arkalia-luna-zeroia:optimized\n',
    });
    const error = await controller.start(serviceTarget(policy, 'zeroia')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SERVICE_START_FAILED', exitCode: 1 });
    expect((error as Error).message).toContain(
      'up -d --no-deps --no-build --pull never zeroia failed (exit 1): Error response from daemon: No such image',
    );
    expect((error as Error).message).toContain('build it (docker compose build, or disk-recovery --build)');
  });

  it('lists running containers with their bind mounts only (volumes are not in the root)', async () => {
    const { controller } = fakes();
    expect(await controller.runningContainers!()).toEqual([
      { name: 'sandozia', bindSources: [`${SAMPLE_ROOT}/state`] },
    ]);
  });

  it('composeCliVersion: the version, or null when `docker compose` is not there', async () => {
    expect(await composeCliVersion(async () => ({ code: 0, stdout: '2.26.1\n', stderr: '' }))).toBe('2.26.1');
    expect(
      await composeCliVersion(async () => ({
        code: 1,
        stdout: '',
        stderr: "docker: 'compose' is not a docker command.",
      })),
    ).toBeNull();
  });
});
