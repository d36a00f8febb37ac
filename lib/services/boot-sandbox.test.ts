import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCompose, readCompose } from '../compose/index.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';
import { tempDir } from '../testing.ts';
import { bootSandbox, sandboxComposeDocument } from './boot-sandbox.ts';

describe('sandboxComposeDocument: the restored sandbox as its own Compose project', async () => {
  const compose = await readCompose(join(SAMPLE_ROOT, 'docker-compose.yml'), { env: {} });
  const { document, adjustments } = sandboxComposeDocument(compose, {
    liveRoot: SAMPLE_ROOT,
    sandbox: '/tmp/sandbox',
    project: 'ark-boot-1',
  });
  const services = (document as { services: Record<string, Record<string, any>> }).services;

  it('is its own project: no container names, no published ports, no networks of the live one, no restarts, no builds', () => {
    expect((document as { name: string }).name).toBe('ark-boot-1');
    for (const [name, s] of Object.entries(services)) {
      for (const key of ['container_name', 'ports', 'networks', 'build'])
        expect(s[key], `${name}.${key}`).toBeUndefined();
      expect(s.restart).toBe('no');
      expect(s.labels['org.arkalia-dr.boot']).toBe('ark-boot-1');
    }
  });

  it('runs the same images (a built-only service under the name the live project gave it), the same healthchecks and order', () => {
    expect(services.zeroia?.image).toBe('arkalia-luna-zeroia:optimized');
    expect(services['arkalia-api']?.image).toBe('arkalia-luna-pro-arkalia-api');
    expect(services['arkalia-api']?.healthcheck.test).toEqual(['CMD', 'curl', '-f', 'http://localhost:8000/health']);
    expect(services.sandozia?.depends_on).toMatchObject({ zeroia: { condition: 'service_healthy' } });
  });

  it('mounts the sandbox instead of the live root, and its .env', () => {
    expect(services.zeroia?.volumes).toEqual([
      {
        type: 'bind',
        source: '/tmp/sandbox/modules/zeroia/state',
        target: '/app/modules/zeroia/state',
        read_only: false,
      },
      { type: 'bind', source: '/tmp/sandbox/logs', target: '/app/logs', read_only: false },
      { type: 'bind', source: '/tmp/sandbox/state', target: '/app/state', read_only: false },
    ]);
    expect(services.reflexia?.volumes).toContainEqual({
      type: 'bind',
      source: '/tmp/sandbox/config',
      target: '/app/config',
      read_only: true,
    });
    expect(services.zeroia?.env_file).toEqual(['/tmp/sandbox/.env']);
    expect(adjustments).toEqual([]);
  });

  it('a bind outside the root stays, read-only; named volumes are left out, and both are said', () => {
    const other = parseCompose(
      'services:\n  ai:\n    image: ollama\n    volumes: ["/var/lib/ollama/models:/models", "cache:/cache", "./state:/state"]\nvolumes:\n  cache: {}\n',
      { file: '/srv/arkalia/docker-compose.yml' },
    );
    const out = sandboxComposeDocument(other, { liveRoot: '/srv/arkalia', sandbox: '/tmp/sb', project: 'p' });
    expect((out.document as any).services.ai.volumes).toEqual([
      { type: 'bind', source: '/var/lib/ollama/models', target: '/models', read_only: true },
      { type: 'bind', source: '/tmp/sb/state', target: '/state', read_only: false },
    ]);
    expect(out.adjustments).toEqual([
      'ai: /var/lib/ollama/models (outside the root) mounted read-only',
      'ai: 1 named or anonymous volume(s) left out',
    ]);
  });
});

describe('bootSandbox: what counts as booted', () => {
  // A Docker that answers inspect with the health the test gives each service, call by call.
  const fakeDocker = (health: (service: string, call: number) => string) => {
    const calls = new Map<string, number>();
    return {
      getContainer: (name: string) => ({
        inspect: async () => {
          const service = name.replace(/^ark-boot-t-/, '').replace(/-1$/, '');
          const call = (calls.get(service) ?? 0) + 1;
          calls.set(service, call);
          return {
            Config: { Image: 'img' },
            State: { Running: true, Health: { Status: health(service, call) } },
            Mounts: [],
          };
        },
      }),
    } as unknown as Parameters<typeof bootSandbox>[0]['docker'];
  };
  const boot = async (health: (service: string, call: number) => string, settleMs: number) => {
    const compose = await readCompose(join(SAMPLE_ROOT, 'docker-compose.yml'), { env: {} });
    const commands: string[] = [];
    const report = await bootSandbox({
      compose,
      liveRoot: SAMPLE_ROOT,
      sandbox: await tempDir(),
      workDir: await tempDir(),
      timeoutMs: 60_000,
      sink: () => {},
      cli: async (args) => {
        commands.push(args.slice(5).join(' '));
        return { code: 0, stdout: '', stderr: '' };
      },
      docker: fakeDocker(health),
      project: 'ark-boot-t',
      settleMs,
    });
    return { report, commands };
  };

  it('a service that missed a check right after up --wait and is healthy again a moment later: booted', async () => {
    const { report, commands } = await boot(
      (s, call) => (s === 'zeroia' && call === 1 ? 'unhealthy' : 'healthy'),
      5_000,
    );
    expect(report.ok).toBe(true);
    expect(report.services.find((s) => s.name === 'zeroia')?.health).toBe('healthy');
    expect(commands.at(-1)).toMatch(/^down /); // torn down, always
  });

  it('one that stays unhealthy: not booted, and the error names it', async () => {
    const { report, commands } = await boot((s) => (s === 'zeroia' ? 'unhealthy' : 'healthy'), 1_000);
    expect(report.ok).toBe(false);
    expect(report.error).toBe('not every service stayed healthy after docker compose up --wait: zeroia unhealthy');
    expect(commands.at(-1)).toMatch(/^down /);
  });
});
