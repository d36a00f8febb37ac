import { resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import {
  failureMetrics,
  failureReason,
  type JobType,
  type MetricsUpdate,
  type RunFacts,
} from '../../lib/metrics/index.ts';
import type { ScriptContext } from './run-script.ts';

// --metrics-file for the backup-side scripts. Job metrics come from lib/metrics/job-metrics.ts
// directly: the writer (and prom-client, ~90 ms to load) is imported only when a run writes.

export const METRICS_OPTION = { 'metrics-file': { type: 'string' } } as const satisfies ParseArgsConfig['options'];

export const METRICS_HELP = `  --metrics-file PATH  merge this run's Prometheus metrics into PATH, the node_exporter textfile
                     (*.prom) the other scripts share (env ARK_METRICS_FILE); not on a dry run.
                     Failing to write it is a warning and never changes the exit code.`;

export interface RunMetrics {
  /** The metrics file, or null when none was asked for (or on a dry run). */
  readonly file: string | null;
  /** Run `work`; if it throws, count a failure of this job (reason: the error's code), then rethrow. */
  guard<T>(work: () => Promise<T>): Promise<T>;
  /** Merge what the finished run yields into the file. Never throws: a failure is a warning event. */
  record(build: (facts: RunFacts) => MetricsUpdate): Promise<void>;
}

export function runMetrics(
  ctx: Pick<ScriptContext, 'sink'>,
  options: {
    flag: string | undefined;
    type: JobType;
    dryRun?: boolean;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    now?: () => Date;
  },
): RunMetrics {
  const value = options.flag ?? (options.env ?? process.env).ARK_METRICS_FILE;
  const file =
    options.dryRun || value === undefined || value === '' ? null : resolve(options.cwd ?? process.cwd(), value);
  const now = options.now ?? (() => new Date());
  const started = now();
  if (file !== null && !file.endsWith('.prom')) {
    ctx.sink({
      kind: 'warning',
      code: 'METRICS_FILE_NAME',
      message: `--metrics-file ${file}: node_exporter's textfile collector reads only *.prom files`,
    });
  }
  // One write at a time per process (--watch flushes while the run goes on).
  let queue: Promise<void> = Promise.resolve();
  const write = (build: (facts: RunFacts) => MetricsUpdate): Promise<void> => {
    if (file === null) return queue;
    queue = queue.then(async () => {
      try {
        const at = now();
        const update = build({ at, durationSeconds: Math.max(0, (at.getTime() - started.getTime()) / 1000) });
        if (update.empty) return;
        const { updateMetricsFile } = await import('../../lib/metrics/index.ts');
        const result = await updateMetricsFile({ file, update, now });
        for (const warning of result.warnings) ctx.sink({ kind: 'warning', ...warning });
        ctx.sink({ kind: 'metrics-written', file, series: result.series });
      } catch (error) {
        ctx.sink({
          kind: 'warning',
          code: 'METRICS_WRITE_FAILED',
          message: `${(error as Error).message} (the run itself is not affected)`,
          path: file,
        });
      }
    });
    return queue;
  };
  return {
    file,
    async guard(work) {
      try {
        return await work();
      } catch (error) {
        await write(() => failureMetrics(options.type, failureReason(error)));
        throw error;
      }
    },
    record: write,
  };
}
