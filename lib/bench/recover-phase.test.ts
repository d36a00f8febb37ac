import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileTexts } from '../testing.ts';
import { sampleBackupPhase } from './phase-testing.ts';
import { runRecoverPhase } from './recover-phase.ts';

// The bench's recovery phase, end to end on the sample root: the runbook's sha256sum -c +
// tar -xzf (baseline), then disaster-recovery into an empty root, both timed; afterwards both
// roots hold the same files, and a difference is reported, not hidden.

describe('bench: the recovery phase', () => {
  it('times the runbook first (the baseline), then disaster-recovery, and the two roots are identical', async () => {
    const { options, rows } = await sampleBackupPhase('ark-bench-recover-');
    const { dir } = options;
    expect(await runRecoverPhase(options)).toBeNull();
    expect(rows).toEqual([
      { tool: 'runbook: sha256sum -c + tar -xzf (states, infra)', baseline: true, code: 0 },
      { tool: 'arkalia-dr disaster-recovery --services none', baseline: false, code: 0 },
    ]);
    const recovered = await fileTexts(join(dir, 'ours-1'));
    expect(Object.keys(recovered).length).toBeGreaterThan(3);
    expect(recovered).toEqual(await fileTexts(join(dir, 'runbook-1')));

    // A recovered root that differs from the runbook's is reported.
    const problem = await runRecoverPhase({
      ...options,
      run: 2,
      record: async (phase, tool, baseline, spec, output, note) => {
        await options.record(phase, tool, baseline, spec, output, note);
        if (!baseline) await writeFile(join(dir, 'ours-2', 'version.toml'), 'current_version = "tampered"\n');
      },
    });
    expect(problem).toMatch(/version\.toml/);
  });
});
