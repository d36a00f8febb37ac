import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingSink } from '../events.ts';
import { runFullBackup } from '../pipeline/backup.ts';
import { resolvePolicy } from '../policy/index.ts';
import { copyFixture, fileTexts, REPO_ROOT, tempDir } from '../testing.ts';
import { type CommandSpec, measureCommand } from './measure-command.ts';
import { biggestModule, runModulePhase } from './module-phase.ts';
import { BENCH_DATE } from './scenarios.ts';

// The bench's one-module phase, end to end on the sample root: the runbook's extraction of the
// module's folder (baseline) and emergency-restore of that module on a root where one of its
// state files is corrupted, both timed; afterwards the restored folder is the backup's.

describe('bench: the one-module phase', () => {
  it('times the runbook extraction first (the baseline), then emergency-restore, and the module comes back whole', async () => {
    const root = await copyFixture();
    const backupDir = await tempDir('ark-bench-module-');
    await runFullBackup({
      root,
      backupDir,
      date: BENCH_DATE,
      policy: resolvePolicy({}, 'test'),
      sink: recordingSink(),
      gitCommit: async () => null,
      host: 'bench',
    });
    const module = await biggestModule(root);
    expect(module.name).toBe('zeroia');
    expect(module.files).toBe((await readdir(join(root, 'modules', module.name, 'state'))).length);
    const dir = await tempDir('ark-bench-module-');
    const policy = join(dir, 'bench.policy.toml');
    await writeFile(policy, '# the built-in policy\n');
    const rows: { tool: string; baseline: boolean; code: number | null }[] = [];
    const problem = await runModulePhase({
      paths: { repo: REPO_ROOT, root, modelsParent: root, policy: '' },
      backupDir,
      daily: join(backupDir, 'daily', `arkalia_${BENCH_DATE}`),
      policy,
      dir,
      run: 1,
      record: async (_phase, tool, baseline, spec: CommandSpec) => {
        const result = await measureCommand(spec);
        rows.push({ tool, baseline, code: result.code });
      },
    });
    expect(rows.map((r) => [r.baseline, r.code])).toEqual([
      [true, 0],
      [false, 0],
    ]);
    expect(rows[1]!.tool).toBe(`arkalia-dr emergency-restore ${module.name} --services none`);
    expect(problem).toBeNull();
    expect(await fileTexts(join(dir, 'runbook-1', 'modules', module.name, 'state'))).toEqual(
      await fileTexts(join(root, 'modules', module.name, 'state')),
    );
  });
});
