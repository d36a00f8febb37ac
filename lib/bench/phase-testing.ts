import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { recordingSink } from '../events.ts';
import { runFullBackup } from '../pipeline/backup.ts';
import { resolvePolicy } from '../policy/index.ts';
import { copyFixture, REPO_ROOT, tempDir } from '../testing.ts';
import type { FromBackupPhase } from './from-backup-phase.ts';
import { type CommandSpec, measureCommand } from './measure-command.ts';
import { BENCH_DATE } from './scenarios.ts';

/** Test set-up of a phase that restores from our backup: the sample root, backed up; each timed command run and kept. */
export async function sampleBackupPhase(prefix: string): Promise<{
  root: string;
  options: FromBackupPhase;
  rows: { tool: string; baseline: boolean; code: number | null }[];
}> {
  const root = await copyFixture();
  const backupDir = await tempDir(prefix);
  await runFullBackup({
    root,
    backupDir,
    date: BENCH_DATE,
    policy: resolvePolicy({}, 'test'),
    sink: recordingSink(),
    gitCommit: async () => null,
    host: 'bench',
  });
  const dir = await tempDir(prefix);
  const policy = join(dir, 'bench.policy.toml');
  await writeFile(policy, '# the built-in policy\n');
  const rows: { tool: string; baseline: boolean; code: number | null }[] = [];
  const options: FromBackupPhase = {
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
  };
  return { root, options, rows };
}
