import { describe, expect, it } from 'vitest';
import { recordingSink } from '../events.ts';
import { ServiceError } from '../errors.ts';
import { applyCompose, resolvePolicy } from '../policy/index.ts';
import { checkApi } from './check-api.ts';
import type { ServiceController, ServiceTarget } from './service-controller.ts';
import { serviceGroups, startServices, stopServices } from './start-in-order.ts';

const policy = applyCompose(
  resolvePolicy(
    {
      services: {
        reflexia: { container: 'reflexia', port: 8002 },
        zeroia: { container: 'zeroia' },
        helloria: { container: 'arkalia-api', port: 8000 },
        assistantia: { container: 'assistantia', port: 8001 },
        extra: { container: 'extra', port: 9000 },
      },
      start_order: [['reflexia'], ['zeroia', 'helloria'], ['assistantia']],
    },
    'test',
  ),
  null,
  '/srv/arkalia',
);

/** A controller whose services become healthy after `delays[name]` ms (or never); records a timeline. */
function fake(delays: Record<string, number | 'never'>, absent: string[] = []) {
  const timeline: string[] = [];
  const controller: ServiceController = {
    kind: 'docker',
    stop: async (t) => (timeline.push(`stop ${t.name}`), !absent.includes(t.name)),
    start: async (t) => void timeline.push(`start ${t.name}`),
    async waitHealthy(t) {
      const delay = delays[t.name] ?? 0;
      if (delay === 'never')
        throw new ServiceError(
          'SERVICE_UNHEALTHY',
          `${t.container} did not become healthy within ${t.healthTimeoutMs / 1000} s (last: health unhealthy)`,
        );
      await new Promise((r) => setTimeout(r, delay));
      timeline.push(`healthy ${t.name}`);
      return { healthy: true, via: 'http', detail: 'GET /health → 200' };
    },
    logsTail: async () => '',
    probe: async (t, path) => (
      timeline.push(`probe ${t.name}${path}`), { url: `http://127.0.0.1:1${path}`, status: 200 }
    ),
  };
  return { controller, timeline };
}

describe('service start order', () => {
  it('takes the policy start order, unlisted services last', () => {
    expect(serviceGroups(policy).map((g) => g.map((t) => t.name))).toEqual([
      ['reflexia'],
      ['zeroia', 'helloria'],
      ['assistantia'],
      ['extra'],
    ]);
  });

  it('stops in reverse order and reports absent containers', async () => {
    const { controller, timeline } = fake({}, ['extra']);
    const sink = recordingSink();
    const present = await stopServices(controller, serviceGroups(policy), sink);
    expect(timeline).toEqual(['stop extra', 'stop assistantia', 'stop zeroia', 'stop helloria', 'stop reflexia']);
    expect(present.map((t) => t.name)).toEqual(['assistantia', 'zeroia', 'helloria', 'reflexia']);
    expect(sink.events).toContainEqual(
      expect.objectContaining({ kind: 'service', service: 'extra', action: 'absent' }),
    );
  });

  it('a stop that fails says which, and hands back what it had stopped (the caller starts them again)', async () => {
    const { controller, timeline } = fake({});
    controller.stop = async (t) => {
      timeline.push(`stop ${t.name}`);
      if (t.name === 'zeroia')
        throw new ServiceError('DOCKER_UNAVAILABLE', 'cannot reach the Docker engine to inspect zeroia');
      return true;
    };
    const error = await stopServices(controller, serviceGroups(policy), recordingSink()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DOCKER_UNAVAILABLE' });
    expect((error as { stoppedSoFar: ServiceTarget[] }).stoppedSoFar.map((t) => t.name)).toEqual([
      'extra',
      'assistantia',
      'helloria',
    ]);
    expect(timeline).not.toContain('stop reflexia'); // nothing more is stopped after a failure
  });

  it('starts each group only once the previous one is healthy; a group starts in parallel', async () => {
    const { controller, timeline } = fake({ reflexia: 40, zeroia: 30, helloria: 5 });
    const outcomes = await startServices(controller, serviceGroups(policy).slice(0, 3), recordingSink());
    expect(timeline).toEqual([
      'start reflexia',
      'healthy reflexia',
      'start zeroia',
      'start helloria',
      'healthy helloria',
      'healthy zeroia',
      'start assistantia',
      'healthy assistantia',
    ]);
    expect(outcomes.map((o) => [o.name, o.error])).toEqual([
      ['reflexia', null],
      ['zeroia', null],
      ['helloria', null],
      ['assistantia', null],
    ]);
  });

  it('a service that does not become healthy stops the sequence, naming it, its timeout, and what was not started', async () => {
    const { controller, timeline } = fake({ zeroia: 'never' });
    const error = await startServices(controller, serviceGroups(policy), recordingSink()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({
      code: 'SERVICES_UNHEALTHY',
      details: { failed: [{ container: 'zeroia', code: 'SERVICE_UNHEALTHY' }], notStarted: ['assistantia', 'extra'] },
    });
    expect((error as Error).message).toBe(
      'zeroia did not become healthy within 60 s (last: health unhealthy). Not started (later in the start order): assistantia, extra',
    );
    expect(timeline).not.toContain('start assistantia');
    expect(timeline).toContain('healthy helloria'); // its sibling in the group was still awaited
  });

  it('checks the API from the policy (service, path), until 200 or its timeout', async () => {
    const target: ServiceTarget = {
      name: 'helloria',
      container: 'arkalia-api',
      port: 8000,
      healthPath: '/health',
      healthTimeoutMs: 1000,
    };
    const answers = [503, 0, 200];
    const { controller } = fake({});
    controller.probe = async (_t, path) => ({ url: `http://127.0.0.1:49100${path}`, status: answers.shift() ?? 200 });
    const sink = recordingSink();
    expect(await checkApi(controller, target, '/status', 5_000, sink, 1)).toEqual({
      service: 'helloria',
      url: 'http://127.0.0.1:49100/status',
      status: 200,
      ok: true,
      checked: true,
    });
    controller.probe = async (_t, path) => ({ url: `http://127.0.0.1:49100${path}`, status: 503 });
    expect(await checkApi(controller, target, '/status', 30, sink, 5)).toMatchObject({ ok: false, status: 503 });
    expect(sink.events.at(-1)).toMatchObject({
      kind: 'api-check',
      ok: false,
      message: 'API http://127.0.0.1:49100/status → 503 after 0 s (expected 200)',
    });
  });
});
