import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ArkError } from '../errors.ts';
import { withBackupLock, type LockOptions } from '../lock/index.ts';
import { writeFileAtomic } from '../state/index.ts';
import { countSeries, familiesOf, mergeFamilies, renderFamilies } from './metric-families.ts';
import { readMetricsState, writeMetricsState } from './metrics-state.ts';
import type { MetricsUpdate } from './metrics-update.ts';

/** How long a run waits for another one writing the same metrics file (writes take milliseconds). */
export const METRICS_LOCK_TIMEOUT_MS = 30_000;

export interface UpdateMetricsOptions {
  /** The node_exporter textfile, e.g. /var/lib/prometheus/node-exporter/arkalia-dr.prom. Its folder must exist. */
  file: string;
  update: MetricsUpdate;
  now?: () => Date;
  lockTimeoutMs?: number;
  /** Test seams of lib/lock (simulated processes). */
  lock?: Pick<LockOptions, 'self' | 'probe' | 'sleep' | 'command'>;
}

export interface UpdateMetricsResult {
  file: string;
  stateFile: string;
  /** Samples in the file after the update. */
  series: number;
  warnings: { code: string; message: string }[];
}

export const metricsStatePath = (file: string): string => `${resolve(file)}.state.json`;
export const metricsLockName = (file: string): string => `${basename(file)}.lock`;

/**
 * Merge one run's update into the metrics textfile shared by every script and run: under an
 * exclusive lock (<file>.lock, lib/lock: stale locks of dead writers are broken), read the
 * accumulated state (<file>.state.json), add this run, write the state, then the textfile,
 * each atomically (temp + fsync + rename; the temp name is hidden and not *.prom, so
 * node_exporter never reads a torn file). The state goes first: after a crash between the two
 * writes the next run renders state + its own update, so the textfile's counters never go
 * backwards. Failures: METRICS_WRITE_FAILED (folder missing or read-only, lock held too long).
 */
export async function updateMetricsFile(options: UpdateMetricsOptions): Promise<UpdateMetricsResult> {
  const file = resolve(options.file);
  const stateFile = metricsStatePath(file);
  const now = options.now ?? (() => new Date());
  try {
    const folder = await stat(dirname(file)).catch((error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' || error.code === 'ENOTDIR' ? null : Promise.reject(error),
    );
    if (!folder?.isDirectory()) {
      throw new ArkError(
        'METRICS_DIR_MISSING',
        `the folder ${dirname(file)} does not exist (it should be node_exporter's textfile collector folder, e.g. /var/lib/prometheus/node-exporter)`,
      );
    }
    return await withBackupLock(
      {
        backupDir: dirname(file),
        lockName: metricsLockName(file),
        timeoutMs: options.lockTimeoutMs ?? METRICS_LOCK_TIMEOUT_MS,
        ...options.lock,
      },
      async () => {
        const at = now();
        const previous = await readMetricsState(stateFile, at);
        const merged = await mergeFamilies(previous.families, await familiesOf(options.update));
        await writeMetricsState(stateFile, merged.families, at);
        await writeFileAtomic(file, await renderFamilies(merged.families));
        const warnings = previous.problem
          ? [{ code: 'METRICS_STATE_RESET', message: previous.problem }, ...merged.warnings]
          : merged.warnings;
        return { file, stateFile, series: countSeries(merged.families), warnings };
      },
    );
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error); // Node's messages start with the errno code
    throw new ArkError('METRICS_WRITE_FAILED', `metrics not written to ${file}: ${why}`, {
      cause: error,
      details: { metrics_file: file },
    });
  }
}
