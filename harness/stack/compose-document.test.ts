import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCompose } from '../../lib/compose/index.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';
import { parseDrillImages } from '../drill-images.ts';
import { composeDocument } from './compose-stack.ts';

const source = await readCompose(join(SAMPLE_ROOT, 'docker-compose.yml'), { env: {} });
const standIn = { image: 'arkalia-dr-standin:abc', standIn: true };
const images = Object.fromEntries(Object.keys(source.services).map((n) => [n, standIn]));

describe('composeDocument: the compose file a drill runs', () => {
  const doc = composeDocument(source, {
    runId: 'r1',
    root: SAMPLE_ROOT,
    project: 'ark-r1',
    images: { ...images, zeroia: { image: 'arkalia-luna-zeroia:optimized', standIn: false } },
  }) as { name: string; services: Record<string, Record<string, any>>; networks: unknown };

  it('one project, unique container names, loopback ports Docker picks, labels, the same depends_on, no restarts', () => {
    expect(doc.name).toBe('ark-r1');
    expect(doc.services['arkalia-api']).toMatchObject({
      container_name: 'ark-r1-arkalia-api',
      ports: ['127.0.0.1::8000'],
      restart: 'no',
      labels: { 'org.arkalia-dr': 'true', 'org.arkalia-dr.run': 'r1', 'org.arkalia-dr.service': 'arkalia-api' },
    });
    expect(doc.services.sandozia?.depends_on).toEqual({
      zeroia: { condition: 'service_healthy' },
      reflexia: { condition: 'service_healthy' },
    });
    expect(doc.networks).toMatchObject({ default: { labels: { 'org.arkalia-dr.run': 'r1' } } });
  });

  it('the bind mounts stay pointed at the root; a stand-in gets its traits files mapped through them', () => {
    expect(doc.services['cognitive-reactor']?.volumes).toContainEqual({
      type: 'bind',
      source: join(SAMPLE_ROOT, 'modules/cognitive_reactor/state'),
      target: '/app/modules/cognitive_reactor/state',
      read_only: false,
      bind: { create_host_path: true }, // the short syntax's, as the root's file has it
    });
    expect(doc.services['cognitive-reactor']?.environment).toMatchObject({
      ARK_SERVICE: 'cognitive-reactor',
      ARK_PORT: '8003',
      ARK_FILE_JSON: '/app/modules/cognitive_reactor/state/cognitive_state.json',
      ARK_FILE_JSONL: '/app/state/chronalia/mind_timeline.jsonl',
    });
    // reflexia's state is not bind-mounted in Arkalia's compose file: it lives in the container, lost with it.
    expect(doc.services.reflexia?.environment.ARK_FILE_STATE).toBe('/tmp/modules/reflexia/state/reflexia_state.toml');
    expect(doc.services.assistantia?.environment.ARK_HEALTH_PATH).toBe('/api/v1/health');
    expect(doc.services.assistantia?.healthcheck.test).toEqual(['CMD', '/usr/local/bin/node', '/app/healthcheck.mjs']);
    // Checked every second, but a slow start or a stall (a loaded machine) is not three failures.
    expect(doc.services.assistantia?.healthcheck).toMatchObject({ interval: '1s', retries: 10, start_period: '60s' });
  });

  it('a real image runs as the compose file says: its command, healthcheck, env_file (made absolute)', () => {
    const zeroia = doc.services.zeroia!;
    expect(zeroia.image).toBe('arkalia-luna-zeroia:optimized');
    expect(zeroia.command).toBe('python -m modules.zeroia.orchestrator_enhanced --mode daemon');
    expect(zeroia.healthcheck).toMatchObject({ test: ['CMD', 'true'] });
    expect(zeroia.env_file).toEqual([join(SAMPLE_ROOT, '.env')]);
    expect(zeroia.environment).toEqual(['PYTHONUNBUFFERED=1']);
  });

  it('--image SERVICE=IMAGE, repeatable; anything else is a usage error', () => {
    expect(parseDrillImages(['zeroia=my/zeroia:2', 'arkalia-api=api:latest'])).toEqual({
      zeroia: 'my/zeroia:2',
      'arkalia-api': 'api:latest',
    });
    expect(() => parseDrillImages(['zeroia'])).toThrow(/--image "zeroia": expected SERVICE=IMAGE/);
    expect(() => parseDrillImages(['Zeroia=x'])).toThrow(/expected SERVICE=IMAGE/);
  });
});
