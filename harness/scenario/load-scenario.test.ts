import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../../lib/testing.ts';
import { loadScenario, loadScenarios, SCENARIO_DIR } from './index.ts';

const run = promisify(execFile);

async function scenarioFile(name: string, text: string): Promise<string> {
  const file = join(await tempDir('ark-scn-'), name);
  await writeFile(file, text);
  return file;
}

const base = await readFile(join(SCENARIO_DIR, 'corrupt-zeroia-state.toml'), 'utf8');

describe('scenario files', () => {
  it('every shipped scenario validates, with id = file name', async () => {
    const all = await loadScenarios();
    expect(all.map((s) => s.id)).toContain('corrupt-zeroia-state');
    const s = all.find((x) => x.id === 'corrupt-zeroia-state')!;
    expect(s.recovery).toMatchObject({ script: 'emergency-restore', args: ['zeroia'], expect_exit: [0] });
    expect(s.faults[0]).toMatchObject({ kind: 'corrupt-toml', mode: 'conflict-markers' });
    expect(s.setup[0]).toMatchObject({ expect_exit: [0, 3] });
  });

  it('rejects invalid TOML by file name and line', async () => {
    const file = await scenarioFile('broken.toml', 'title = "x"\nfaults = [\n');
    await expect(loadScenario(file)).rejects.toThrow(/broken\.toml: not valid TOML \(line \d+\)/);
  });

  it('rejects schema violations by field and reason', async () => {
    const cases: [string, RegExp][] = [
      [
        base.replace('script = "emergency-restore"', 'script = "rm-rf"'),
        /recovery\.script: must name an operator script/,
      ],
      [base.replace('mode = "conflict-markers"', 'mode = "gentle"'), /faults\.0\.mode/],
      [base.replace('rto = "PT2M"', 'rto = "2 minutes"'), /objectives\.rto: expected an ISO-8601 duration/],
      [
        base.replace('path = "modules/zeroia/state/zeroia_state.toml"', 'path = "../../etc/passwd"'),
        /faults\.0\.path: must be a path relative/,
      ],
      [
        base.replace(/detect = \[[\s\S]*?\n\]\n/, 'detect = []\n'),
        /detect: a drill whose fault is not observed proves nothing/,
      ],
      [`${base}\nsurprise = 1\n`, /surprise/],
    ];
    for (const [text, pattern] of cases) {
      await expect(loadScenario(await scenarioFile('bad.toml', text))).rejects.toThrow(pattern);
    }
  });

  it('rejects an id that is not the file name', async () => {
    await expect(loadScenario(await scenarioFile('one.toml', `id = "two"\n${base}`))).rejects.toThrow(
      /id "two" must equal the file name \("one"\)/,
    );
  });

  it('reports every invalid file of a selection together, and unknown ids', async () => {
    const a = await scenarioFile('a.toml', 'nope');
    const error = await loadScenarios([a, 'no-such-scenario']).catch((e: Error) => e);
    expect(error).toMatchObject({ exitCode: 2 });
    expect((error as Error).message).toMatch(
      /nothing was run[\s\S]*a\.toml[\s\S]*no-such-scenario\.toml: cannot read scenario \(ENOENT\)/,
    );
  });
});

describe('npm run drill', () => {
  it('rejects an invalid scenario before starting anything: exit 2, the file named, no stack trace', async () => {
    const invalid = base.replace('status = 200', 'status = "down"');
    expect(invalid).not.toBe(base); // else this would run a real drill
    const file = await scenarioFile('invalid-drill.toml', invalid);
    const result = await run(process.execPath, ['--import', 'tsx', 'harness/drill.ts', file], { cwd: REPO_ROOT }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid-drill\.toml: invalid scenario:[\s\S]*steady_state\.0\.status/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toMatch(/Test Files|drill\(s\):/); // vitest never started
  });
});
