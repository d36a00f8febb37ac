import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileTexts, REPO_ROOT, tempDir } from '../testing.ts';
import { writeBenchPolicies } from './bench-setup.ts';
import { generateCorpus } from './generate-corpus.ts';
import { runPointsPhase } from './points-phase.ts';
import { createRecorder } from './recorder.ts';

// The bench's points phase on a small generated corpus (the sample root holds invalid TOML on
// purpose, which a backup reports with exit 3): the first backup (baseline), one right after
// with nothing changed, an hourly point after one database file changed; in the first run,
// seven unchanged points measured on disk. The root is left as it was found.

describe('bench: the points phase', { timeout: 180_000 }, () => {
  it('times the first backup, an unchanged one and an hourly point; seven unchanged points use about the space of one', async () => {
    const dir = await tempDir('ark-bench-points-');
    const corpus = await generateCorpus({ dir: join(dir, 'corpus'), size: 2 * 1024 * 1024, seed: 5 });
    const root = corpus.root;
    const before = await fileTexts(root);
    const { policy } = await writeBenchPolicies(dir, corpus, false);
    const { record, results } = createRecorder(() => {});
    const space = await runPointsPhase({
      paths: { repo: REPO_ROOT, root, modelsParent: join(dir, 'corpus', 'ollama'), policy },
      dir: join(dir, 'points'),
      record,
      restic: null,
      run: 1,
    });
    expect(results().map((r) => [r.tool, r.baseline, r.runs.map((m) => m.code)])).toEqual([
      ['arkalia-dr full-backup, first (empty folder)', true, [0]],
      ['arkalia-dr full-backup right after, nothing changed', false, [0]],
      ['arkalia-dr full-backup --point, one database file changed', false, [0]],
    ]);
    expect(space).not.toBeNull();
    expect(space!.points).toBe(7);
    expect(space!.oneBytes).toBeGreaterThan(0);
    expect(space!.allBytes / space!.oneBytes).toBeLessThan(1.1);
    expect(await fileTexts(root)).toEqual(before);
  });
});
