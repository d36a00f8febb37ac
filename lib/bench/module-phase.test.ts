import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileTexts } from '../testing.ts';
import { biggestModule, runModulePhase } from './module-phase.ts';
import { sampleBackupPhase } from './phase-testing.ts';

// The bench's one-module phase, end to end on the sample root: the runbook's extraction of the
// module's folder (baseline) and emergency-restore of that module on a root where one of its
// state files is corrupted, both timed; afterwards the restored folder is the backup's.

describe('bench: the one-module phase', () => {
  it('times the runbook extraction first (the baseline), then emergency-restore, and the module comes back whole', async () => {
    const { root, options, rows } = await sampleBackupPhase('ark-bench-module-');
    const module = await biggestModule(root);
    expect(module.name).toBe('zeroia');
    expect(module.files).toBe((await readdir(join(root, 'modules', module.name, 'state'))).length);
    const problem = await runModulePhase(options);
    expect(rows.map((r) => [r.baseline, r.code])).toEqual([
      [true, 0],
      [false, 0],
    ]);
    expect(rows[1]!.tool).toBe(`arkalia-dr emergency-restore ${module.name} --services none`);
    expect(problem).toBeNull();
    expect(await fileTexts(join(options.dir, 'runbook-1', 'modules', module.name, 'state'))).toEqual(
      await fileTexts(join(root, 'modules', module.name, 'state')),
    );
  });
});
