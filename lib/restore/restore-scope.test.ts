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
