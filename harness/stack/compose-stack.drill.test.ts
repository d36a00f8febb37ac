import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { copyFixture, tempDir } from '../../lib/testing.ts';
import { jsonHeartbeat, readHeartbeat } from '../arkalia/index.ts';
import { type ComposeStack, RUN_LABEL, StackStartError, startComposeStack } from './index.ts';

const docker = new Dockerode();
const newRunId = () => `drill-${randomBytes(4).toString('hex')}`;
const SIX = ['arkalia-api', 'assistantia', 'cognitive-reactor', 'reflexia', 'sandozia', 'zeroia'];

async function leftovers(runId: string): Promise<number> {
  const filters = { label: [`${RUN_LABEL}=${runId}`] };
  return (await docker.listContainers({ all: true, filters })).length + (await docker.listNetworks({ filters })).length;
}

describe('the Compose stack of the sample root: six services as its docker-compose.yml defines them', () => {
  const runId = newRunId();
  let root: string;
  let stack: ComposeStack;

  beforeAll(async () => {
    root = await copyFixture();
    stack = await startComposeStack({ root, runId, work: await tempDir('ark-work-') });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('runs the six services in one project, each healthy, with unique container names, every one a stand-in here', async () => {
    expect(Object.keys(stack.compose.services).sort()).toEqual(SIX);
    expect(stack.project).toBe(`ark-${runId}`);
    for (const name of SIX) {
      const info = await docker.getContainer(stack.containerName(name)).inspect();
      expect(info.State.Health?.Status, name).toBe('healthy');
      expect(info.Config.Labels['com.docker.compose.project']).toBe(stack.project);
      expect(stack.images[name]?.standIn, name).toBe(true);
    }
    expect(stack.containerName('zeroia')).toBe(`ark-${runId}-zeroia`);
    // Started in depends_on order: cognitive-reactor after sandozia after zeroia after reflexia.
    const startedAt = async (name: string) =>
      Date.parse((await docker.getContainer(stack.containerName(name)).inspect()).State.StartedAt);
    expect(await startedAt('zeroia')).toBeGreaterThan(await startedAt('reflexia'));
    expect(await startedAt('cognitive-reactor')).toBeGreaterThan(await startedAt('sandozia'));
  });

  it('real ports and health paths on loopback ports Docker chose; health and /status ignore state', async () => {
    const api = await fetch(await stack.url('arkalia-api', '/status'));
    expect(api.status).toBe(200);
    const assistantia = await fetch(await stack.url('assistantia', '/api/v1/health'));
    expect(assistantia.status).toBe(200);
    expect(await stack.url('cognitive-reactor', '/health')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/health$/);
    // zeroia publishes no port, as in Arkalia's compose file.
    await expect(stack.url('zeroia', '/health')).rejects.toThrow(/not published/);
  });

  it('the writers write into the drill root through their bind mounts: zeroia in place, sandozia and cognitive-reactor JSON, appends', async () => {
    await vi.waitFor(
      async () => {
        const zeroia = await readFile(join(root, 'modules/zeroia/state/zeroia_state.toml'), 'utf8');
        expect(readHeartbeat(zeroia)?.sequence).toBeGreaterThan(1);
        const backup = await readFile(join(root, 'modules/zeroia/state/zeroia_state_backup.toml'), 'utf8');
        expect(readHeartbeat(backup)?.sequence).toBeGreaterThan(0);
        const sandozia = await readFile(join(root, 'state/sandozia/latest_metrics.json'), 'utf8');
        expect(jsonHeartbeat(sandozia)?.sequence).toBeGreaterThan(0);
        const cognitive = await readFile(join(root, 'modules/cognitive_reactor/state/cognitive_state.json'), 'utf8');
        expect(JSON.parse(cognitive)).toMatchObject({ mode: 'production' }); // the sample's own keys survive
        const timeline = await readFile(join(root, 'state/chronalia/mind_timeline.jsonl'), 'utf8');
        expect(timeline).toMatch(/"service":"cognitive-reactor"/);
        expect(await readFile(join(root, 'logs/assistantia_chat.log'), 'utf8')).toMatch(
          /assistantia: conversation turn/,
        );
      },
      { timeout: 10_000, interval: 200 },
    );
  });

  it('follows a service across a docker stop + start done behind its back (a new host port), and zeroia on its network address', async () => {
    const before = await stack.url('assistantia', '/api/v1/health');
    const container = docker.getContainer(stack.containerName('assistantia'));
    const t0 = Date.now();
    await container.stop({ t: 10 });
    // SIGTERM is handled by the stand-in: docker must not wait out its 10 s grace period.
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await stack.health('assistantia')).toEqual({ status: 0, body: null });
    await container.start();
    await vi.waitFor(
      async () => expect(await stack.health('assistantia')).toMatchObject({ status: 200, body: { status: 'ok' } }),
      { timeout: 10_000, interval: 100 },
    );
    // Docker hands out host ports round-robin: a cached port would now point at nothing.
    expect(await stack.url('assistantia', '/api/v1/health')).not.toBe(before);
    // zeroia publishes no port: it is asked on its address on the project network, and follows a restart too.
    await docker.getContainer(stack.containerName('zeroia')).restart({ t: 5 });
    await vi.waitFor(
      async () => expect(await stack.health('zeroia')).toMatchObject({ status: 200, body: { service: 'zeroia' } }),
      { timeout: 10_000, interval: 100 },
    );
  });

  it('removes every container and the network on stop(), idempotently', async () => {
    expect(await leftovers(runId)).toBe(7);
    await stack.stop();
    await stack.stop();
    expect(await leftovers(runId)).toBe(0);
  });
});

describe('a Compose stack that cannot start', () => {
  it('fails naming the service, and leaves nothing behind', async () => {
    const runId = newRunId();
    const root = await copyFixture();
    const error = await startComposeStack({
      root,
      runId,
      work: await tempDir('ark-work-'),
      images: { sandozia: 'arkalia-dr-no-such-image:none' },
      startTimeoutMs: 30_000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackStartError);
    expect((error as StackStartError).service).toBe('sandozia');
    expect((error as Error).message).toMatch(
      /docker compose up --wait failed .*No such image: arkalia-dr-no-such-image:none/,
    );
    expect(await leftovers(runId)).toBe(0);
  });
});
