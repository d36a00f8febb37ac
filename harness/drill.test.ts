import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../lib/testing.ts';
import { expectNoStackTrace, runScript } from '../scripts/testing.ts';

// `npm run drill` refuses what it cannot drill before any container starts (these runs have no
// Docker engine to reach: a container start would fail differently, and later).
const DRILL = join(REPO_ROOT, 'harness', 'drill.ts');
const noDocker = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
const drill = (args: string[], env: Record<string, string> = {}) =>
  runScript(DRILL, args, { ...noDocker, ...env }, { timeoutMs: 60_000 });

describe('npm run drill: a source that is not an Arkalia root is refused by name, exit 2, before anything starts', () => {
  it('--root-from missing, a file, a folder that is not an Arkalia root, a tree with a link out of it; ARK_DRILL_ROOT alike', async () => {
    const dir = await tempDir('ark-drill-src-');
    const reports = join(dir, 'reports');
    await writeFile(join(dir, 'notes.txt'), 'x');
    const root = join(dir, 'root');
    await mkdir(join(root, 'modules'), { recursive: true });
    await writeFile(join(root, 'docker-compose.yml'), 'services: {}\n');
    await symlink('/etc', join(root, 'config'));
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--root-from', join(dir, 'missing')], {}, /--root-from .*missing: no such folder/],
      [['--root-from', join(dir, 'notes.txt')], {}, /--root-from .*notes\.txt is not a folder/],
      [['--root-from', dir], {}, /is not an Arkalia root: it has no modules\/ folder and no docker-compose\.yml/],
      [['--root-from', root], {}, /1 link\(s\) lead out of the tree.*: config -> \/etc/],
      [['--root-from', ''], {}, /--root-from needs a folder/],
      [[], { ARK_DRILL_ROOT: dir }, /ARK_DRILL_ROOT .* is not an Arkalia root/],
    ];
    for (const [args, env, message] of cases) {
      const run = await drill(['--reports', reports, 'corrupt-zeroia-state', ...args], env);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(message);
      expectNoStackTrace(run);
      expect(run.stderr).not.toMatch(/drill\(s\):/); // refused before the drills were even announced
    }
    expect(await readdir(reports).catch(() => [])).toEqual([]); // nothing written: no report, no evidence
  });

  it('an unknown option, scenario or tag is a usage error too', async () => {
    const reports = join(await tempDir('ark-drill-'), 'reports');
    for (const [args, message] of [
      [['--bogus'], /bogus/],
      [['no-such-scenario'], /no-such-scenario/],
      [['--tag', 'no-such-tag'], /no-such-tag/],
    ] as const) {
      const run = await drill(['--reports', reports, ...args]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(message);
      expectNoStackTrace(run);
    }
    expect(await readdir(reports).catch(() => [])).toEqual([]);
  });
});

describe('npm run drill that cannot run a drill says so plainly', () => {
  it('no Docker engine: no drill ran, exit 1, no evidence signed, never "0 of 0"', async () => {
    const reports = join(await tempDir('ark-drill-'), 'reports');
    const run = await drill(['--reports', reports, 'corrupt-zeroia-state'], { ARK_EVIDENCE_KEY: '' });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/Docker engine not reachable/);
    expect(run.stderr).toMatch(/✗ corrupt-zeroia-state: no journal from this run/);
    expect(run.stderr).toMatch(/✗ none of the 1 selected drill\(s\) ran to the end .*: no evidence signed/);
    expect(run.stderr).not.toMatch(/0 of 0/);
    expect(run.stderr).not.toMatch(/evidence: /);
    expect(await readdir(join(reports, 'evidence')).catch(() => [])).toEqual([]);
  });
});
