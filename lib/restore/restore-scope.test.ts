import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../policy/index.ts';
import { inScope, matchPrefix, mirrorDirs, moduleStateScope, systemScope } from './restore-scope.ts';

describe('restore scopes', () => {
  it('match paths like GNU tar was given them: a folder and everything under it, * within one segment, no leading dot', () => {
    expect(matchPrefix('modules/*/state/', 'modules/zeroia/state/x.toml')).toBe('modules/zeroia/state');
    expect(matchPrefix('modules/*/state/', 'modules/zeroia/state/')).toBe('modules/zeroia/state');
    expect(matchPrefix('modules/*/state/', 'modules/zeroia/logs/x.log')).toBeNull();
    expect(matchPrefix('modules/*/state/', 'modules/.hidden/state/x')).toBeNull();
    expect(matchPrefix('Dockerfile*', 'Dockerfile.prod')).toBe('Dockerfile.prod');
    expect(matchPrefix('.env', '.env')).toBe('.env');
    expect(matchPrefix('.env', '.envrc')).toBeNull();
    expect(matchPrefix('state/*.json', 'state/a.json')).toBe('state/a.json');
    expect(matchPrefix('state/*.json', 'state/sub/a.json')).toBeNull();
  });

  it('matchPrefix answers as splitting every path did (its per-prefix memo changes nothing)', () => {
    const reference = (pattern: string, path: string): string | null => {
      const segments = pattern.replace(/\/+$/, '').split('/');
      const parts = path.replace(/\/+$/, '').split('/');
      if (parts.length < segments.length) return null;
      const glob = (g: string, s: string) =>
        !(s.startsWith('.') && !g.startsWith('.')) &&
        new RegExp(
          `^${g
            .replace(/[.+^${}()|\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]')}$`,
        ).test(s);
      return segments.every((g, i) => glob(g, parts[i]!)) ? parts.slice(0, segments.length).join('/') : null;
    };
    const patterns = ['modules/*/state/', 'state/*.json', '.env', 'Dockerfile*', 'config/', 'a/b?/c'];
    const parts = ['modules', 'state', 'zeroia', '.hidden', 'a', 'b1', 'bb', 'c', 'x.json', 'config', '.env', ''];
    let seed = 7;
    const pick = () => parts[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % parts.length]!;
    for (let n = 0; n < 5000; n++) {
      const path = Array.from({ length: 1 + (n % 5) }, pick).join('/') + (n % 7 === 0 ? '/' : '');
      for (const pattern of patterns)
        expect(matchPrefix(pattern, path), `${pattern} ${path}`).toBe(reference(pattern, path));
    }
  });

  it('emergency restore: one module state folder, restored exactly', () => {
    const scope = moduleStateScope('zeroia');
    expect(inScope(scope, 'modules/zeroia/state/zeroia_state.toml')).toBe(true);
    expect(inScope(scope, 'modules/zeroia_x/state/a.toml')).toBe(false);
    expect(inScope(scope, 'modules/zeroia/config/weights.toml')).toBe(false);
    expect(mirrorDirs(scope, ['modules/zeroia/state/a.toml', 'modules/zeroia/state/sub/b.toml'])).toEqual([
      'modules/zeroia/state/',
    ]);
    expect(scope.missing('arkalia_20260110', 'arkalia_states_20260110.tar.gz')).toMatchObject({
      code: 'MODULE_NOT_IN_BACKUP',
      exitCode: 1,
    });
  });

  it('disaster recovery: states, configs and infra; only the state folders the backup holds are mirrored', () => {
    const scope = systemScope(resolvePolicy({}, 'test'));
    expect(scope.archives).toEqual([
      { name: 'states', required: true },
      { name: 'infra', required: false },
    ]);
    for (const path of [
      'modules/zeroia/state/a.toml',
      'state/x.toml',
      'global_state/g.toml',
      'config/c.toml',
      '.env',
      'docker-compose.yml',
      'Dockerfile',
      'scripts/run.sh',
      'version.toml',
    ])
      expect(inScope(scope, path), path).toBe(true);
    for (const path of ['logs/a.log', 'modules/zeroia/logs/a.log', 'modules/zeroia/config/w.toml', 'README.md'])
      expect(inScope(scope, path), path).toBe(false);
    expect(mirrorDirs(scope, ['modules/zeroia/state/a.toml', 'state/x.toml', 'config/c.toml', '.env'])).toEqual([
      'modules/zeroia/state/',
      'state/',
    ]);
  });
});

describe('restore scopes, what the pipeline reads from them', () => {
  it('emergency restore: names the module in its label, preserve folder and missing error, and takes only its states', () => {
    const scope = moduleStateScope('zeroia');
    expect(scope).toMatchObject({
      label: 'state of zeroia',
      archives: [{ name: 'states', required: true }],
      paths: ['modules/zeroia/state/'],
      mirror: ['modules/zeroia/state/'],
      preserveName: 'zeroia_state',
      preserveBase: 'modules/zeroia/state/',
      wholeArchives: false,
    });
    expect(scope.missing('arkalia_20260110', 'arkalia_states_20260110.tar.gz').message).toBe(
      'backup arkalia_20260110 holds no state for module "zeroia" (no modules/zeroia/state/ in arkalia_states_20260110.tar.gz)',
    );
  });

  it('disaster recovery: states, configs, infra and database by default, whole archives, preserved as "system"', () => {
    const scope = systemScope(resolvePolicy({}, 'test'));
    expect(scope).toMatchObject({
      label: 'states, configs, infra, database',
      preserveName: 'system',
      preserveBase: '',
      wholeArchives: true,
    });
    expect(scope.paths).toContain('state/*.json');
    const missing = scope.missing('arkalia_20260110', 'arkalia_states_20260110.tar.gz');
    expect(missing).toMatchObject({ code: 'NOTHING_IN_BACKUP', exitCode: 1 });
    expect(missing.message).toBe(
      'backup arkalia_20260110 holds nothing to restore (no states, configs, infra, database data in arkalia_states_20260110.tar.gz)',
    );
  });

  it('disaster recovery of chosen data sets: unknown names left out, host paths (absolute) never in scope, only realtime folders mirrored', () => {
    const policy = resolvePolicy(
      {
        datasets: {
          states: { paths: ['state/', 'state/*.toml', '/srv/elsewhere/state/', 'modules/*/state/'] },
        },
      },
      'test',
    );
    const scope = systemScope(policy, ['nope', 'states', 'models']);
    expect(scope.label).toBe('states, models');
    expect(scope.paths).toEqual(['state/', 'state/*.toml', 'modules/*/state/']);
    expect(scope.mirror).toEqual(['state/', 'modules/*/state/']);
    expect(scope.archives).toEqual([
      { name: 'states', required: true },
      { name: 'models', required: false },
    ]);
  });

  it('the empty path, a path shorter than the pattern, and repeated slashes match nothing more than they name', () => {
    expect(inScope({ paths: ['*'] }, '')).toBe(false);
    expect(inScope({ paths: ['*'] }, 'x')).toBe(true);
    expect(matchPrefix('modules/*', 'modules')).toBeNull();
    expect(matchPrefix('modules/*/', 'modules//')).toBeNull();
    expect(matchPrefix('state//', 'state/x.toml')).toBe('state');
    expect(matchPrefix('state/', 'state//')).toBe('state');
  });

  it('mirrored folders come out sorted and once each, whatever order the staged paths are in', () => {
    const scope = { mirror: ['modules/*/state/', 'state/'] };
    expect(
      mirrorDirs(scope, [
        'state/x.toml',
        'modules/zeroia/state/a.toml',
        'modules/reflexia/state/b.toml',
        'state/y.toml',
      ]),
    ).toEqual(['modules/reflexia/state/', 'modules/zeroia/state/', 'state/']);
  });
});
