import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ComposeError } from '../errors.ts';
import { tempDir } from '../testing.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';
import { interpolate, parseCompose, readCompose, startGroups } from './index.ts';

const FILE = '/srv/arkalia/docker-compose.yml';
const parse = (text: string, env: Record<string, string> = {}) => parseCompose(text, { file: FILE, env });
const failure = (text: string, env: Record<string, string> = {}): ComposeError => {
  try {
    parse(text, env);
  } catch (error) {
    return error as ComposeError;
  }
  throw new Error('expected a ComposeError');
};

describe('the sample root compose file (the six real services)', async () => {
  const compose = await readCompose(join(SAMPLE_ROOT, 'docker-compose.yml'), { env: {} });

  it('has the six services with their container names', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'arkalia-api',
      'assistantia',
      'cognitive-reactor',
      'reflexia',
      'sandozia',
      'zeroia',
    ]);
    expect(compose.services.zeroia?.container).toBe('zeroia');
    expect(compose.services['arkalia-api']?.fixedName).toBe(true);
  });

  it('starts in depends_on order: reflexia → zeroia → sandozia → cognitive-reactor, arkalia-api → assistantia', () => {
    expect(compose.groups).toEqual([
      ['arkalia-api', 'reflexia'],
      ['assistantia', 'zeroia'],
      ['sandozia'],
      ['cognitive-reactor'],
    ]);
    expect(compose.services.sandozia?.dependsOn).toEqual([
      { service: 'zeroia', condition: 'service_healthy' },
      { service: 'reflexia', condition: 'service_healthy' },
    ]);
  });

  it('reads each healthcheck, and the published ports after interpolation (${PORT_API:-8000})', () => {
    expect(compose.services['arkalia-api']?.healthcheck?.test).toEqual([
      'CMD',
      'curl',
      '-f',
      'http://localhost:8000/health',
    ]);
    expect(compose.services['arkalia-api']?.ports).toEqual([{ container: 8000, host: 8000 }]);
    expect(compose.services.assistantia?.ports).toEqual([{ container: 8001, host: 8001 }]);
    expect(compose.services.zeroia?.ports).toEqual([]);
  });

  it('resolves bind mounts against the compose folder; the merge key gives the defaults, a service list replaces them', () => {
    const binds = (name: string) =>
      compose.services[name]?.binds.map(
        (b) => `${b.source.slice(SAMPLE_ROOT.length + 1)}:${b.target}${b.readOnly ? ':ro' : ''}`,
      );
    expect(binds('reflexia')).toEqual(['logs:/app/logs', 'state:/app/state', 'config:/app/config:ro']);
    expect(binds('zeroia')).toEqual([
      'modules/zeroia/state:/app/modules/zeroia/state',
      'logs:/app/logs',
      'state:/app/state',
    ]);
    expect(binds('cognitive-reactor')?.[0]).toBe(
      'modules/cognitive_reactor/state:/app/modules/cognitive_reactor/state',
    );
  });

  it('takes variables from the environment first, then the project .env', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, '.env'), 'PORT_API=9100\nPORT_X=1\n');
    await writeFile(
      join(dir, 'docker-compose.yml'),
      'services:\n  a:\n    image: x\n    ports: ["${PORT_API:-8000}:8000", "${PORT_X}:1"]\n',
    );
    const read = await readCompose(join(dir, 'docker-compose.yml'), { env: { PORT_X: '7' } });
    expect(read.services.a?.ports).toEqual([
      { container: 8000, host: 9100 },
      { container: 1, host: 7 },
    ]);
  });
});

describe('parseCompose', () => {
  it('names containers <project>-<service>-1 without container_name; the project from name:, -p or the folder', () => {
    const text = 'services:\n  web:\n    image: nginx\n';
    expect(parse(text).services.web?.container).toBe('arkalia-web-1');
    expect(parse(`name: My_Stack\n${text}`).services.web?.container).toBe('my_stack-web-1');
    expect(parseCompose(text, { file: FILE, project: 'drill7' }).services.web?.container).toBe('drill7-web-1');
    expect(parse(text, { COMPOSE_PROJECT_NAME: 'envname' }).project).toBe('envname');
  });

  it('reads the short and long forms of ports, depends_on, volumes and healthcheck', () => {
    const c = parse(`
services:
  db:
    image: db
    healthcheck: { test: "pg_isready" }
    volumes:
      - type: bind
        source: ./data
        target: /data
        read_only: true
      - type: bind
        source: ./made
        target: /made
        bind: { create_host_path: true }
      - type: volume
        source: cache
        target: /cache
      - named:/named
      - /abs/path:/abs:rw
      - /anonymous
  app:
    image: app
    depends_on: [db]
    ports: ["127.0.0.1:8080:80/tcp", "9000", { target: 81, published: "8181" }]
    healthcheck: { test: ["NONE"] }
  off:
    image: off
    healthcheck: { test: ["CMD", "x"], disable: true }
`);
    expect(c.services.db?.healthcheck).toEqual({ test: ['CMD-SHELL', 'pg_isready'] });
    expect(c.services.db?.binds).toEqual([
      // Compose creates a missing source for the short syntax, and for the long one only when asked.
      { source: '/srv/arkalia/data', target: '/data', readOnly: true, createHostPath: false },
      { source: '/srv/arkalia/made', target: '/made', readOnly: false, createHostPath: true },
      { source: '/abs/path', target: '/abs', readOnly: false, createHostPath: true },
    ]);
    expect(c.services.app?.dependsOn).toEqual([{ service: 'db', condition: 'service_started' }]);
    expect(c.services.app?.ports).toEqual([
      { container: 80, host: 8080 },
      { container: 9000, host: null },
      { container: 81, host: 8181 },
    ]);
    expect(c.services.app?.healthcheck).toBeNull();
    expect(c.services.off?.healthcheck).toBeNull();
    expect(c.groups).toEqual([['db', 'off'], ['app']]);
  });

  it('refuses, naming the file: bad YAML (with its line), no services, an unknown dependency, a cycle, a duplicate container name', () => {
    const yaml = failure('services:\n  a: [1,\n');
    expect(yaml).toBeInstanceOf(ComposeError);
    expect(yaml.exitCode).toBe(2);
    expect(yaml.message).toMatch(/^\/srv\/arkalia\/docker-compose\.yml: not valid YAML \(line \d+, column \d+\)/);
    expect(failure('version: "3"\n').message).toContain('no services defined');
    expect(failure('- a\n- b\n').message).toContain('not a compose file');
    expect(failure('services:\n  a:\n    image: x\n    depends_on: [ghost]\n').message).toContain(
      'services.a.depends_on: names "ghost", which is not a service of this file',
    );
    expect(
      failure(
        'services:\n  a: { image: x, depends_on: [b] }\n  b: { image: x, depends_on: [c] }\n  c: { image: x, depends_on: [a] }\n',
      ).message,
    ).toContain('depends_on has a cycle: a → b → c → a');
    expect(
      failure('services:\n  a: { image: x, container_name: same }\n  b: { image: x, container_name: same }\n').message,
    ).toContain('both have container_name "same"');
    expect(failure('services:\n  a: { image: x, ports: ["http"] }\n').message).toContain(
      'services.a.ports: cannot read port "http"',
    );
    expect(
      failure('services:\n  a: { image: x, depends_on: { b: { condition: soon } } }\n  b: { image: x }\n').message,
    ).toContain('unknown condition "soon"');
    expect(failure('services:\n  a: { image: "${IMG:?set IMG}" }\n').message).toContain(
      'required variable IMG is missing a value: set IMG',
    );
  });

  it('an unreadable file is a ComposeError that names it', async () => {
    const dir = await tempDir();
    await expect(readCompose(join(dir, 'nope.yml'))).rejects.toThrow(
      new ComposeError(`cannot read compose file ${join(dir, 'nope.yml')}: ENOENT`),
    );
  });
});

describe('interpolate', () => {
  it('follows compose: defaults for unset (-) or unset-or-empty (:-), $$ for a dollar, nested defaults', () => {
    const vars = { SET: 'v', EMPTY: '' };
    expect(interpolate('${SET} $SET ${UNSET} $$HOME', vars)).toBe('v v  $HOME');
    expect(interpolate('${EMPTY:-d} ${EMPTY-d} ${UNSET-d}', vars)).toBe('d  d');
    expect(interpolate('${UNSET:-${SET}}', vars)).toBe('v');
    expect(() => interpolate('${EMPTY:?no}', vars)).toThrow('required variable EMPTY is missing a value: no');
    expect(() => interpolate('${bad name}', vars)).toThrow('invalid interpolation format');
  });
});

describe('startGroups', () => {
  it('puts each service one layer after its last dependency', () => {
    const deps = new Map([
      ['a', []],
      ['b', ['a']],
      ['c', ['a', 'b']],
      ['d', []],
    ]);
    expect(startGroups(deps)).toEqual([['a', 'd'], ['b'], ['c']]);
  });
});
