import { cp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComposeError, PolicyError } from '../errors.ts';
import { tempDir } from '../testing.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';
import { loadPolicy, resolvePolicy, serviceModule, withCompose } from './index.ts';

async function sampleRoot(policyText?: string): Promise<string> {
  const root = join(await tempDir('ark-compose-policy-'), 'root');
  await cp(SAMPLE_ROOT, root, { recursive: true });
  if (policyText !== undefined) await writeFile(join(root, 'ark.policy.toml'), policyText);
  return root;
}

const load = async (root: string, composeFile?: string) =>
  withCompose(await loadPolicy({ root }), { root, env: {}, ...(composeFile ? { composeFile } : {}) });

describe('withCompose: services from the root docker-compose.yml', () => {
  it('gives the six services, their containers, the depends_on start order, module ownership from mounts, and the runbook API check', async () => {
    const root = await sampleRoot();
    const { policy, compose } = await load(root);
    expect(compose?.file).toBe(join(root, 'docker-compose.yml'));
    expect(Object.keys(policy.services).sort()).toEqual([
      'arkalia-api',
      'assistantia',
      'cognitive-reactor',
      'reflexia',
      'sandozia',
      'zeroia',
    ]);
    expect(policy.start_order).toEqual([
      ['arkalia-api', 'reflexia'],
      ['assistantia', 'zeroia'],
      ['sandozia'],
      ['cognitive-reactor'],
    ]);
    expect(policy.services.zeroia).toEqual({
      container: 'zeroia',
      module: 'zeroia',
      health_timeout: 'PT60S',
      binds: ['modules/zeroia/state', 'logs', 'state'],
    });
    // No health_path: health is Docker's status of the compose healthcheck, not an HTTP path.
    expect(policy.services['arkalia-api']?.health_path).toBeUndefined();
    expect(policy.services['arkalia-api']?.port).toBe(8000);
    expect(serviceModule('arkalia-api', policy.services['arkalia-api']!)).toBeNull();
    expect(serviceModule('cognitive-reactor', policy.services['cognitive-reactor']!)).toBe('cognitive_reactor');
    expect(policy.api).toEqual({ service: 'arkalia-api', path: '/status', timeout: 'PT60S' });
  });

  it('lets the policy override a service field by field, add one, and set the start order', async () => {
    const root = await sampleRoot(
      [
        '[services.zeroia]',
        'container = "prod-zeroia"',
        'health_path = "/healthz"',
        'port = 8009',
        '[services.watcher]',
        'container = "ark-watcher"',
        '[api]',
        'service = "assistantia"',
        'path = "/api/v1/health"',
        '',
      ].join('\n'),
    );
    const { policy } = await load(root);
    expect(policy.services.zeroia).toMatchObject({
      container: 'prod-zeroia',
      health_path: '/healthz',
      port: 8009,
      module: 'zeroia',
      binds: ['modules/zeroia/state', 'logs', 'state'],
    });
    expect(policy.services.watcher?.container).toBe('ark-watcher');
    expect(serviceModule('watcher', policy.services.watcher!)).toBe('watcher'); // not in compose: its name, as before
    expect(policy.api?.service).toBe('assistantia');
    const ordered = await load(await sampleRoot('start_order = [["zeroia"], ["reflexia"]]\n'));
    expect(ordered.policy.start_order).toEqual([['zeroia'], ['reflexia']]);
  });

  it('without a compose file (or with [compose] enabled = false) the services are the policy own', async () => {
    const root = await sampleRoot('[services.zeroia]\ncontainer = "z"\n');
    await rm(join(root, 'docker-compose.yml'));
    const { policy, compose } = await load(root);
    expect(compose).toBeNull();
    expect(Object.keys(policy.services)).toEqual(['zeroia']);
    expect(policy.api).toBeUndefined();
    const off = await load(await sampleRoot('[compose]\nenabled = false\n[services.zeroia]\ncontainer = "z"\n'));
    expect(off.compose).toBeNull();
    expect(Object.keys(off.policy.services)).toEqual(['zeroia']);
  });

  it("read from a clone beside the root (disk-recovery --clone), the compose file is taken as the root's: its paths are the root's", async () => {
    const root = await sampleRoot();
    const clone = join(root, '..', 'clone');
    await cp(join(root, 'docker-compose.yml'), join(clone, 'docker-compose.yml'), { recursive: true });
    await rm(join(root, 'docker-compose.yml'));
    const { compose, policy } = await withCompose(await loadPolicy({ root }), { root, env: {}, readFrom: clone });
    expect(compose?.file).toBe(join(root, 'docker-compose.yml'));
    expect(compose?.services.zeroia?.binds[0]?.source).toBe(join(root, 'modules/zeroia/state'));
    expect(compose?.project).toBe('root');
    expect(policy.services.zeroia?.binds).toEqual(['modules/zeroia/state', 'logs', 'state']);
  });

  it('--compose FILE must exist; a compose file that cannot be read is exit 2 naming it', async () => {
    const root = await sampleRoot();
    const missing = join(root, 'other.yml');
    await expect(load(root, missing)).rejects.toThrow(new ComposeError(`cannot read compose file ${missing}: ENOENT`));
    await writeFile(join(root, 'docker-compose.yml'), 'services:\n  a: [\n');
    const error = await load(root).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComposeError);
    expect((error as ComposeError).exitCode).toBe(2);
    expect((error as Error).message).toContain(`${join(root, 'docker-compose.yml')}: not valid YAML`);
  });

  it('refuses a service with no container, and an order or API check naming an unknown service (exit 2)', async () => {
    const root = await sampleRoot();
    await rm(join(root, 'docker-compose.yml'));
    const base = await loadPolicy({ root });
    const bad = resolvePolicy(
      { services: { lonely: { port: 1 } }, start_order: [['ghost']], api: { service: 'nobody' } },
      'p.toml',
    );
    const error = await withCompose({ policy: bad, source: 'p.toml' }, { root }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as Error).message).toContain('services.lonely.container: no container name');
    expect((error as Error).message).toContain('start_order.0.0: names service "ghost"');
    expect((error as Error).message).toContain('api.service: names service "nobody"');
    expect((await withCompose(base, { root })).policy.services).toEqual({});
  });
});
