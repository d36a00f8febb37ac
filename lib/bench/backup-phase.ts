import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchPolicies } from './bench-setup.ts';
import { type BenchTools, dailyOf, freshDir } from './bench-files.ts';
import type { RecordRun } from './points-phase.ts';
import { type BenchPaths, oursBackup, resticBackup, resticEnv, runbookBackup } from './scenarios.ts';

// The bench's "backup" phase: the runbook's `tar -czf` + sha256sum (the baseline) and our
// full-backup, always (every later phase restores from them); with `variants` (the phase
// itself asked for), ours at the runbook's gzip level, with GNU tar packing and with zstd,
// GNU tar with pigz and with zstd -T2, and restic into a fresh repository.

export interface BackupPhaseOptions {
  paths: BenchPaths;
  /** The bench's output folder: out/<row> for each row's backup. */
  out: string;
  record: RecordRun;
  tools: BenchTools;
  policies: BenchPolicies;
  restic: { repo: string; cache: string };
  variants: boolean;
}

const PHASE = 'backup';

export async function runBackupPhase(options: BackupPhaseOptions): Promise<void> {
  const { paths, record, tools, policies } = options;
  const out = (name: string) => join(options.out, name);
  const ours = async (tool: string, name: string, env: NodeJS.ProcessEnv = {}, policy = paths.policy) => {
    await rm(out(name), { recursive: true, force: true });
    await record(PHASE, tool, false, oursBackup(paths, out(name), env, policy), dailyOf(out(name)));
  };
  const shell = async (tool: string, name: string, compressor?: 'pigz' | 'zstd') =>
    record(
      PHASE,
      tool,
      compressor === undefined,
      runbookBackup(paths, await freshDir(out(name)), compressor),
      out(name),
    );

  await shell('runbook: tar -czf + sha256sum', 'runbook');
  await ours('arkalia-dr full-backup', 'ours');
  if (!options.variants) return;
  await ours('arkalia-dr, logs at gzip -6 (runbook level)', 'ours-logs6', {}, policies.logsLevel6);
  if (tools.gnuTar) await ours('arkalia-dr, GNU tar packing (ARK_TAR=gnu)', 'ours-gnu', { ARK_TAR: 'gnu' });
  if (tools.zstd) await ours('arkalia-dr, compression = "zstd"', 'ours-zstd', {}, policies.zstd);
  if (tools.pigz) await shell('GNU tar + pigz -6 + sha256sum', 'pigz', 'pigz');
  if (tools.zstd) await shell('GNU tar + zstd -T2 + sha256sum', 'zstd', 'zstd');
  if (tools.restic) {
    const env = await freshResticRepository(options.restic);
    await record(PHASE, 'restic backup (fresh repository)', false, resticBackup(paths, env), options.restic.repo);
  }
}

/** restic's repository of the corpus, made untimed: the restore phase's restic row without the backup phase. */
export async function makeResticRepository(paths: BenchPaths, restic: { repo: string; cache: string }): Promise<void> {
  const env = await freshResticRepository(restic);
  const [command, ...args] = resticBackup(paths, env).argv;
  execFileSync(command!, args, { env, stdio: 'ignore' });
}

async function freshResticRepository(restic: { repo: string; cache: string }): Promise<NodeJS.ProcessEnv> {
  await rm(restic.repo, { recursive: true, force: true });
  const env = resticEnv(restic.repo, restic.cache);
  execFileSync('restic', ['init', '--quiet'], { env, stdio: 'ignore' });
  return env;
}
