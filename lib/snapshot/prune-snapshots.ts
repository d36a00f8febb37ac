import { unlink } from 'node:fs/promises';
import { listSnapshotTree, type SnapshotRef } from './list-snapshots.ts';
import { planPrune } from './plan-prune.ts';
import { ownerOfSeries } from './realtime-layout.ts';
import type { StatePatterns } from './state-patterns.ts';
import { processExists } from '../lock/index.ts';

export interface PruneOptions {
  backupDir: string;
  patterns: StatePatterns;
  /** The window (policy realtime.keep), in ms. */
  keepMs: number;
  now?: () => Date;
  dryRun?: boolean;
  /** A temp file of a dead process older than this is removed (default 10 minutes). */
  staleTempMs?: number;
  isAlive?: (pid: number) => boolean;
}

export interface PruneResult {
  removed: SnapshotRef[];
  keptAsNewest: SnapshotRef[];
  staleTemps: string[];
}

/**
 * Remove the snapshots past the window, keeping each series' newest. A series counts as
 * ours when it is a `.toml` file (the runbook pruned `*.toml.*`) or maps to a state path of
 * the policy; anything else under realtime/ (notes, foreign files, symlinks, odd names) is
 * never touched. Also removes our temp files left by a crashed run. Idempotent.
 */
export async function pruneSnapshots(options: PruneOptions): Promise<PruneResult> {
  const now = options.now ?? (() => new Date());
  const tree = await listSnapshotTree(options.backupDir);
  const isOurs = (series: string) =>
    series.endsWith('.toml') || ownerOfSeries(series, options.patterns).kind !== 'foreign';
  const plan = planPrune(tree.series, { now: now(), keepMs: options.keepMs, isOurs });
  const isAlive = options.isAlive ?? processExists;
  const staleTemps = tree.temps
    .filter(
      (t) => t.pid !== process.pid && !isAlive(t.pid) && now().getTime() - t.mtimeMs > (options.staleTempMs ?? 600_000),
    )
    .map((t) => t.file);
  if (!options.dryRun) {
    for (const file of [...plan.remove.map((r) => r.file), ...staleTemps]) {
      await unlink(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  }
  return { removed: plan.remove, keptAsNewest: plan.keptAsNewest, staleTemps };
}
