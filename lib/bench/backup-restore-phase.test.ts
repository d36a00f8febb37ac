import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileTexts, REPO_ROOT, tempDir } from '../testing.ts';
import { runBackupPhase } from './backup-phase.ts';
import { type BenchTools, dailyOf } from './bench-files.ts';
import { prepareCorpus, writeBenchPolicies } from './bench-setup.ts';
import { createRecorder } from './recorder.ts';
import { runRestorePhase } from './restore-phase.ts';
import { type BenchPaths, oursScript } from './scenarios.ts';

// The bench's backup and restore phases, end to end on a small generated corpus, as
// scripts/bench.mts runs them: the runbook's rows (the baselines) and ours, through the
// recorder; ours restored by the bench's own --child-restore (verify, then safe extraction)
// holds what the runbook's does, file for file; a damaged archive fails that row, never times it as a success.

const NO_TOOLS: BenchTools = { gnuTar: false, pigz: false, zstd: false, gpg: false, restic: false, time: false };

describe('bench: the backup and restore phases', { timeout: 120_000 }, () => {
  it('back up with the runbook and ours, then restore both; ours comes back whole, a damaged archive fails its row', async () => {
    const base = await tempDir('ark-bench-phases-');
    const said: string[] = [];
    const say = (line: string) => said.push(line);
    const corpus = await prepareCorpus({ base, size: 2 * 1024 * 1024, seed: '3', say });
    // The same size and seed: the corpus is reused, not generated again.
    expect(await prepareCorpus({ base, size: 2 * 1024 * 1024, seed: '3', say })).toEqual(corpus);
    expect(said.filter((l) => l.startsWith('▶ reusing'))).toHaveLength(1);
    const policies = await writeBenchPolicies(base, corpus, false);
    expect(await readFile(policies.logsLevel6, 'utf8')).toContain('gzip_level = 6');
    const paths: BenchPaths = {
      repo: REPO_ROOT,
      root: corpus.root,
      modelsParent: join(base, 'corpus', 'ollama'),
      policy: policies.policy,
    };
    const { record, results } = createRecorder(say);
    const out = join(base, 'out');
    const restic = { repo: join(out, 'restic'), cache: join(base, 'restic-cache') };
    // With variants, every tool missing: ours at the runbook's gzip level is the one variant left.
    await runBackupPhase({ paths, out, record, tools: NO_TOOLS, policies, restic, variants: true });
    expect(results().map((r) => [r.tool, r.baseline, r.runs.map((m) => m.code)])).toEqual([
      ['runbook: tar -czf + sha256sum', true, [0]],
      ['arkalia-dr full-backup', false, [0]],
      ['arkalia-dr, logs at gzip -6 (runbook level)', false, [0]],
    ]);
    expect(results().every((r) => (r.outputBytes ?? 0) > 0)).toBe(true);

    const restore = (run: number) =>
      runRestorePhase({
        paths,
        out,
        dir: join(base, 'restore'),
        record,
        tools: NO_TOOLS,
        variants: false,
        restic: null,
        run,
        childRestore: (daily, target) =>
          oursScript(paths, 'bench.mts', ['--child-restore', daily, target], {}, { sources: true }),
      });
    await restore(1);
    const restores = results().filter((r) => r.phase === 'restore');
    expect(restores.map((r) => [r.tool, r.baseline, r.runs.map((m) => m.code)])).toEqual([
      ['runbook: sha256sum -c + tar -xzf', true, [0]],
      ['arkalia-dr: verify + safe extract', false, [0]],
    ]);
    // Both hold the root's files and the models, at the same paths, with the same bytes; ours
    // also has version.toml, which the runbook's infra archive leaves out.
    const restored = await fileTexts(join(base, 'restore', 'ours-1'));
    const { 'version.toml': version, ...rest } = restored;
    expect(rest).toEqual(await fileTexts(join(base, 'restore', 'runbook-1')));
    expect(version).toBe(await readFile(join(corpus.root, 'version.toml'), 'utf8'));
    const zeroia = join('modules', 'zeroia', 'state', 'zeroia_state.toml');
    expect(restored[zeroia]).toBe(await readFile(join(corpus.root, zeroia), 'utf8'));

    // A damaged archive: ours refuses it (checksums first), and the row says it failed.
    const states = join(dailyOf(join(out, 'ours')), 'arkalia_states_20260101.tar.gz');
    const bytes = await readFile(states);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(states, bytes);
    await restore(2);
    const ours = results().find((r) => r.tool === 'arkalia-dr: verify + safe extract')!;
    expect(ours.runs.map((m) => m.code)).toEqual([0, 1]);
    expect(ours.runs[1]!.stderr).toMatch(
      /^✗ checksum verification failed .*\n {2}arkalia_states_20260101\.tar\.gz: sha256 /,
    );
    expect(said.some((l) => /FAILED \(exit 1\)/.test(l))).toBe(true);
  });
});
