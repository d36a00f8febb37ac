import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExtractBudget, extractArchive } from '../archive/index.ts';
import { assertChecksumsOk, parseManifest, verifyChecksums } from '../checksum/index.ts';
import { type BenchTools, dailyOf, freshDir } from './bench-files.ts';
import type { RecordRun } from './points-phase.ts';
import { BENCH_DATE, type BenchPaths, oursScript, resticEnv, resticRestore, runbookRestore } from './scenarios.ts';

// The bench's "restore" phase: every archive of a backup restored into an empty folder, by the
// runbook (`sha256sum -c` + `tar -xzf`, the baseline) and by ours (verify the checksums first,
// then the safe extraction: verifyAndExtract, run as a child of the bench), and, when their
// backups were made, GNU tar with pigz -d and with zstd -d, and restic restore. Each run into
// new folders, kept until the end of the bench unless the disk cannot hold them (quiet-disk.ts).

export interface RestorePhaseOptions {
  paths: BenchPaths;
  /** The bench's output folder, with the backup phase's out/<row> backups. */
  out: string;
  /** Where this phase restores: <dir>/<tool>-<run>. */
  dir: string;
  record: RecordRun;
  tools: BenchTools;
  /** Whether the backup phase ran with its variants (the pigz and zstd backups exist). */
  variants: boolean;
  /** restic's repository of the corpus, or null for no restic row. */
  restic: { repo: string; cache: string } | null;
  run: number;
  /** The bench's `--child-restore` command: verifyAndExtract(daily, target) in a process of its own. */
  childRestore: (daily: string, target: string) => ReturnType<typeof oursScript>;
}

const PHASE = 'restore';

export async function runRestorePhase(options: RestorePhaseOptions): Promise<void> {
  const { record, tools, run } = options;
  const out = (name: string) => join(options.out, name);
  const target = (tool: string) => freshDir(join(options.dir, `${tool}-${run}`));
  await record(
    PHASE,
    'runbook: sha256sum -c + tar -xzf',
    true,
    runbookRestore(out('runbook'), await target('runbook')),
    null,
  );
  const ours = options.childRestore(dailyOf(out('ours')), await target('ours'));
  await record(PHASE, 'arkalia-dr: verify + safe extract', false, ours, null);
  if (options.variants) {
    if (tools.pigz)
      await record(PHASE, 'pigz -d + GNU tar', false, runbookRestore(out('pigz'), await target('pigz'), 'pigz'), null);
    if (tools.zstd)
      await record(PHASE, 'zstd -d + GNU tar', false, runbookRestore(out('zstd'), await target('zstd'), 'zstd'), null);
  }
  if (options.restic) {
    const env = resticEnv(options.restic.repo, options.restic.cache);
    await record(PHASE, 'restic restore', false, resticRestore(await target('restic'), env), null);
  }
}

/** What a full restore does with each archive of `daily`: verify the checksums first, then extract safely into `target`. */
export async function verifyAndExtract(daily: string, target: string): Promise<void> {
  const checksums = join(daily, `checksums_${BENCH_DATE}.sha256`);
  assertChecksumsOk(await verifyChecksums(checksums), checksums);
  const manifest = parseManifest(await readFile(join(daily, `backup_manifest_${BENCH_DATE}.json`), 'utf8'));
  const budget = new ExtractBudget({ maxBytes: Number.MAX_SAFE_INTEGER, maxEntries: Number.MAX_SAFE_INTEGER });
  for (const archive of manifest.archives ?? [])
    await extractArchive({ file: join(daily, archive.file), cwd: target, budget });
}
