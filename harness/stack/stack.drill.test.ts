import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import TOML from '@iarna/toml';
import Dockerode from 'dockerode';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readHeartbeat, stripHeartbeat } from '../arkalia/index.ts';
import {
  type ArkaliaStack,
  type StackOptions,
  DEFAULT_START_ORDER,
  RUN_LABEL,
  StackStartError,
  defaultStackServices,
  startArkaliaStack,
} from './index.ts';
import { copyFixture } from '../../lib/testing.ts';
import { writeFileAtomic } from '../../lib/state/write-file-atomic.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';

const docker = new Dockerode();
const ZEROIA_STATE = 'modules/zeroia/state/zeroia_state.toml';
const CONFLICT = '<<<<<<< HEAD\nlast_decision = "reduce_load"\n=======\nlast_decision = "hold"\n>>>>>>> dev\n';
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const newRunId = () => `drill-${randomBytes(4).toString('hex')}`;
const defaultOptions = (root: string, runId: string) =>
  ({ root, runId, services: defaultStackServices(runId), order: DEFAULT_START_ORDER }) satisfies StackOptions;

async function leftovers(runId: string): Promise<number> {
  const filters = { label: [`${RUN_LABEL}=${runId}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return containers.length + networks.length;
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, body: await res.json() };
}

describe('the default Arkalia stand-in stack on a copy of the sample root', () => {
  const runId = newRunId();
  let root: string;
  let stack: ArkaliaStack;
  const zeroiaState = () => join(root, ZEROIA_STATE);

  beforeAll(async () => {
    root = await copyFixture();
    stack = await startArkaliaStack(defaultOptions(root, runId));
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('starts every service healthy, in order', async () => {
    for (const service of ['reflexia', 'zeroia', 'helloria', 'assistantia']) {
      const health = await stack.health(service);
      expect(health, service).toMatchObject({ status: 200, body: { status: 'ok', service } });
    }
    expect(await stack.logs('zeroia')).toMatch(/^zeroia ready on :8000 \(sequence 0\)$/m);
    expect(stack.containerName('zeroia')).toBe(`ark-${runId}-zeroia`);
  });

  it('serves helloria /status aggregating reflexia and zeroia over the stack network', async () => {
    const status = await getJson(await stack.url('helloria', '/status'));
    expect(status.status).toBe(200);
    expect(status.body.services).toMatchObject({
      helloria: { status: 'ok' },
      reflexia: { status: 'ok', http: 200 },
      zeroia: { status: 'ok', http: 200 },
    });
  });

  it('heartbeats zeroia state: the sequence grows, every other byte stays, the file stays valid TOML', async () => {
    const original = await readFile(join(SAMPLE_ROOT, ZEROIA_STATE));
    expect((await stack.health('zeroia')).body.loaded_sha256).toBe(sha256(original));

    const first = await readFile(zeroiaState(), 'utf8');
    await new Promise((r) => setTimeout(r, 1_000));
    const later = await readFile(zeroiaState(), 'utf8');
    expect(readHeartbeat(first)).not.toBeNull();
    expect(readHeartbeat(later)!.sequence).toBeGreaterThan(readHeartbeat(first)!.sequence);
    for (const text of [first, later]) {
      expect(stripHeartbeat(text)).toBe(original.toString('utf8'));
      expect(TOML.parse(text)).toMatchObject({
        standin: { service: 'zeroia' },
        decision: { last_decision: 'monitor' },
      });
    }
  });

  it('notices conflict markers in zeroia state: 503, evidence kept, helloria /status 503', async () => {
    // Atomically, as the corrupt-toml fault does: a plain writeFile truncates first, and the
    // stand-in (which keeps the first damage it sees) could latch on the empty moment instead.
    await writeFileAtomic(zeroiaState(), CONFLICT);
    await vi.waitFor(
      async () => expect(await stack.health('zeroia')).toMatchObject({ status: 503, body: { status: 'unhealthy' } }),
      { timeout: 5_000, interval: 100 },
    );
    expect((await stack.health('zeroia')).body.reason).toMatch(/row 1/);
    // Several write intervals later, the corrupted bytes are still there, untouched.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await readFile(zeroiaState(), 'utf8')).toBe(CONFLICT);

    const status = await fetch(await stack.url('helloria', '/status'));
    expect(status.status).toBe(503);
    expect(((await status.json()) as any).services.zeroia).toMatchObject({ status: 'unhealthy', http: 503 });
  });

  it('follows zeroia across a docker stop + start done behind its back (new host port)', async () => {
    const before = await stack.url('zeroia', '/health');
    const container = docker.getContainer(stack.containerName('zeroia'));
    const t0 = Date.now();
    await container.stop({ t: 10 });
    // SIGTERM is handled by the service: docker must not wait out its 10 s grace period.
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(await stack.health('zeroia')).toEqual({ status: 0, body: null });

    await writeFile(zeroiaState(), await readFile(join(SAMPLE_ROOT, ZEROIA_STATE))); // the "restore"
    await container.start();
    const after = await stack.url('zeroia', '/health');
    expect(after).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/health$/);
    await vi.waitFor(
      async () => expect(await stack.health('zeroia')).toMatchObject({ status: 200, body: { status: 'ok' } }),
      { timeout: 10_000, interval: 100 },
    );
    // Docker hands out host ports round-robin, so the restart moved zeroia: a cached port
    // would now point at nothing (or at someone else's container).
    expect(after).not.toBe(before);
  });

  it('removes every container and the network on stop(), and stop() is idempotent', async () => {
    expect(await leftovers(runId)).toBe(5);
    await stack.stop();
    await stack.stop();
    expect(await leftovers(runId)).toBe(0);
    expect(await stack.health('zeroia')).toEqual({ status: 0, body: null });
  });
});

describe('a stack whose zeroia state is invalid at start', () => {
  it('fails with an error naming zeroia and its log, and leaves nothing behind', async () => {
    const runId = newRunId();
    const root = await copyFixture();
    await writeFile(join(root, ZEROIA_STATE), CONFLICT);
    const start = startArkaliaStack(defaultOptions(root, runId));
    const err = await start.then(
      () => expect.fail('the stack started on an invalid zeroia state'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StackStartError);
    expect((err as StackStartError).service).toBe('zeroia');
    expect((err as Error).message).toMatch(/zeroia .*did not start: its health check reports unhealthy/);
    expect((err as Error).message).toMatch(/state invalid: Unknown character/);
    expect(await leftovers(runId)).toBe(0);
    expect(await readFile(join(root, ZEROIA_STATE), 'utf8')).toBe(CONFLICT);
  });
});
