import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SAMPLE_ROOT } from '../../sample/index.ts';
import { readCompose } from './index.ts';

// Our reading of a compose file against the real one: `docker compose config` (the v2 CLI,
// which CI installs) must see the same services, names, dependencies, healthchecks, ports and
// bind mounts. Needs no engine, only the CLI; in the drills project because that is where the
// Docker tooling is a prerequisite.

const run = promisify(execFile);

describe('readCompose agrees with `docker compose config`', () => {
  it('on the sample root compose file', async () => {
    const file = join(SAMPLE_ROOT, 'docker-compose.yml');
    const { stdout } = await run('docker', ['compose', '-f', file, 'config', '--format', 'json'], {
      env: { ...process.env, PORT_API: '9000' },
    });
    const real = JSON.parse(stdout) as {
      name: string;
      services: Record<
        string,
        {
          container_name?: string;
          depends_on?: Record<string, { condition: string }>;
          healthcheck?: { test: string[] };
          ports?: { target: number; published?: string }[];
          volumes?: {
            type: string;
            source: string;
            target: string;
            read_only?: boolean;
            bind?: { create_host_path?: boolean };
          }[];
        }
      >;
    };
    const ours = await readCompose(file, { env: { ...process.env, PORT_API: '9000' } });
    expect(ours.project).toBe(real.name);
    expect(Object.keys(ours.services).sort()).toEqual(Object.keys(real.services).sort());
    for (const [name, service] of Object.entries(real.services)) {
      const mine = ours.services[name]!;
      expect(mine.container, name).toBe(service.container_name ?? `${real.name}-${name}-1`);
      expect(mine.dependsOn.map((d) => [d.service, d.condition]).sort(), name).toEqual(
        Object.entries(service.depends_on ?? {})
          .map(([dep, spec]) => [dep, spec.condition])
          .sort(),
      );
      expect(mine.healthcheck?.test ?? null, name).toEqual(service.healthcheck?.test ?? null);
      expect(mine.ports, name).toEqual(
        (service.ports ?? []).map((p) => ({ container: p.target, host: p.published ? Number(p.published) : null })),
      );
      expect(mine.binds, name).toEqual(
        (service.volumes ?? [])
          .filter((v) => v.type === 'bind')
          .map((v) => ({
            source: v.source,
            target: v.target,
            readOnly: v.read_only === true,
            createHostPath: v.bind?.create_host_path === true,
          })),
      );
    }
    expect(ours.services['arkalia-api']?.ports[0]?.host).toBe(9000);
  });
});
