import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingSink } from '../events.ts';
import { runFullBackup } from '../pipeline/backup.ts';
import { resolvePolicy } from '../policy/index.ts';
import { copyFixture, fileTexts, REPO_ROOT, tempDir } from '../testing.ts';
import { type CommandSpec, measureCommand } from './measure-command.ts';
import { runRecoverPhase } from './recover-phase.ts';
import { BENCH_DATE } from './scenarios.ts';

// The bench's recovery phase, end to end on the sample root: the runbook's sha256sum -c +
// tar -xzf (baseline), then disaster-recovery into an empty root, both timed; afterwards both
// roots hold the same files, and a difference is reported, not hidden.

describe('bench: the recovery phase', () => {
  it('times the runbook first (the baseline), then disaster-recovery, and the two roots are identical', async () => {
    const root = await copyFixture();
    const backupDir = await tempDir('ark-bench-recover-');
    await runFullBackup({
      root,
      backupDir,
      date: BENCH_DATE,
      policy: resolvePolicy({}, 'test'),
      sink: recordingSink(),
      gitCommit: async () => null,
      host: 'bench',
    });
    const dir = await tempDir('ark-bench-recover-');
    const policy = join(dir, 'bench.policy.toml');
    await writeFile(policy, '# the built-in policy\n');
    const rows: { tool: string; baseline: boolean; code: number | null }[] = [];
    const options = {
      paths: { repo: REPO_ROOT, root, modelsParent: root, policy: '' },
      backupDir,
      daily: join(backupDir, 'daily', `arkalia_${BENCH_DATE}`),
      policy,
      dir,
      run: 1,
      record: async (_phase: string, tool: string, baseline: boolean, spec: CommandSpec) => {
        const result = await measureCommand(spec);
        rows.push({ tool, baseline, code: result.code });
      },
    };
    expect(await runRecoverPhase(options)).toBeNull();
    expect(rows).toEqual([
      { tool: 'runbook: sha256sum -c + tar -xzf (states, infra)', baseline: true, code: 0 },
      { tool: 'arkalia-dr disaster-recovery --services none', baseline: false, code: 0 },
    ]);
    const recovered = await fileTexts(join(dir, 'ours-1'));
    expect(Object.keys(recovered).length).toBeGreaterThan(3);
    expect(recovered).toEqual(await fileTexts(join(dir, 'runbook-1')));

    // A recovery that leaves a file out is seen by the diff.
    const problem = await runRecoverPhase({
      ...options,
      run: 2,
      record: async (phase, tool, baseline, spec) => {
        await options.record(phase, tool, baseline, spec);
        if (!baseline) await writeFile(join(dir, 'ours-2', 'version.toml'), 'current_version = "tampered"\n');
      },
    });
    expect(problem).toMatch(/version\.toml/);
  });
});
