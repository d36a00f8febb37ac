#!/usr/bin/env -S npx tsx
// Real-time snapshots of the live state files (the runbook's ark_realtime_snapshot.sh), once
// (cron) or --watch (a daemon that snapshots each file shortly after it changes).
import { EXIT, UsageError } from '../lib/errors.ts';
import type { ArkEvent, EventSink } from '../lib/events.ts';
import { realtimeEventMetrics, realtimeMetrics } from '../lib/metrics/index.ts';
import { COMMON_HELP, policyLocation } from './cli/parse-options.ts';
import { METRICS_HELP, METRICS_OPTION, runMetrics } from './cli/run-metrics.ts';
import { runScript } from './cli/run-script.ts';

const HELP = `Usage: realtime-snapshot.mts [options]

Snapshots each state file of the policy's real-time data sets (default modules/*/state/*.toml,
state/*.toml, global_state/*.toml) to
  <backup-dir>/realtime/<path under the root>.<YYYYMMDD_HHMMSS>     (local time)
with _001, _002, ... appended when one file is snapshotted twice in the same second. A file
whose content equals its newest snapshot is not snapshotted again. Each snapshot is written
to a temp file, validated as TOML, fsynced and then given its name: never a torn or invalid
snapshot. Invalid state files are never snapshotted: they are named and the exit code is 3
(after every valid file was snapshotted). Snapshots older than the policy's realtime.keep
(default P7D, judged by the time in their name) are pruned, except the newest of each file.

Options:
  --watch             keep running: snapshot each file shortly after it changes; stop with
                      SIGINT/SIGTERM (pending changes and the snapshot in flight are finished)
  --debounce-ms N     with --watch: wait until a file has been quiet this long (default 500)
  --max-wait-ms N     with --watch: but snapshot a file that never settles at least this
                      often (default 30000: at most ~20,000 snapshots per file in a 7-day
                      window; lower it for less data loss, at the cost of more files)
  --rescan-ms N       with --watch: full re-scan period, for changes fs events missed (default 30000)
  --dry-run           print what would be snapshotted and pruned; write nothing
${METRICS_HELP}
                      With --watch: snapshot failures and invalid state files are counted
                      every minute (there are no runs to time).
${COMMON_HELP}

Exit codes (one-shot): 0 all valid files snapshotted or unchanged, 1 a snapshot could not be
written (disk full, permissions), 2 usage, 3 a state file is invalid TOML. --watch exits 0
after a clean stop; problems while watching are reported as they happen.

Node 20: npx tsx scripts/realtime-snapshot.mts ...   Node >= 22.18: zx scripts/realtime-snapshot.mts ...`;

await runScript(
  {
    help: HELP,
    options: {
      watch: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'debounce-ms': { type: 'string' },
      'max-wait-ms': { type: 'string' },
      'rescan-ms': { type: 'string' },
      ...METRICS_OPTION,
    },
    scriptUrl: import.meta.url,
  },
  async (ctx, { values, common }) => {
    const debounceMs = milliseconds(values['debounce-ms'], '--debounce-ms', 500);
    const maxWaitMs = milliseconds(values['max-wait-ms'], '--max-wait-ms', Math.max(30_000, debounceMs));
    const rescanMs = milliseconds(values['rescan-ms'], '--rescan-ms', 30_000);
    if (!values.watch) {
      for (const flag of ['debounce-ms', 'max-wait-ms', 'rescan-ms'] as const) {
        if (values[flag] !== undefined) throw new UsageError(`--${flag} only applies with --watch`);
      }
    }
    if (values.watch && values['dry-run']) throw new UsageError('--dry-run cannot be combined with --watch');
    const metrics = runMetrics(ctx, { flag: values['metrics-file'], type: 'realtime', dryRun: values['dry-run'] });

    // Loaded only now, so that --help and usage errors answer at once.
    const [{ loadPolicy }, pipeline] = await Promise.all([
      import('../lib/policy/index.ts'),
      import('../lib/pipeline/realtime-snapshot.ts'),
    ]);
    const { policy, source } = await metrics.guard(() => loadPolicy(policyLocation(common)));

    if (!values.watch) {
      ctx.say(`📸 real-time snapshot of ${common.root} → ${common.backupDir}/realtime (policy: ${source})`);
      const report = await metrics.guard(() =>
        pipeline.runRealtimeSnapshot({
          root: common.root,
          backupDir: common.backupDir,
          policy,
          sink: ctx.sink,
          dryRun: values['dry-run'],
        }),
      );
      await metrics.record((facts) => realtimeMetrics(report, facts));
      const exitCode = pipeline.realtimeExitCode(report);
      const t = report.totals;
      const counts = `${t.written} ${report.dryRun ? 'would be written' : 'written'}, ${t.unchanged} unchanged, ${t.invalid} invalid, ${t.failed} failed, ${t.pruned} ${report.dryRun ? 'would be pruned' : 'pruned'}`;
      // Marked as a problem only when something is new or wrong: a file still invalid for the
      // reason the previous pass gave is said, unmarked (-q, cron's every-minute pass, leaves it out).
      const problem = report.failed.length > 0 || report.newlyInvalid.length > 0;
      const lines = [
        `${exitCode === EXIT.ok ? '✅' : problem ? '⚠' : '•'} ${report.dryRun ? '[dry run] nothing was written; ' : ''}snapshots: ${counts}`,
      ];
      if (report.invalid.length > 0)
        lines.push(
          `${report.invalid.length} state file(s) are invalid TOML and were not snapshotted (${report.newlyInvalid.length} new since the previous pass):`,
          ...report.invalid.map((i) => `  - ${i.path}: ${i.reason}`),
        );
      if (report.failed.length > 0)
        lines.push(
          `${report.failed.length} snapshot(s) could not be written:`,
          ...report.failed.map((f) => `  - ${f.path}: ${f.message}`),
        );
      return {
        exitCode,
        summary: lines.join('\n'),
        policy: source,
        result: {
          mode: 'once',
          dry_run: report.dryRun,
          ...runFields(common.backupDir, report),
          written: report.written,
          invalid_states: report.invalid,
          newly_invalid: report.newlyInvalid,
          failed: report.failed,
          pruned: report.pruned,
        },
      };
    }

    ctx.say(`📸 watching ${common.root} → ${common.backupDir}/realtime (policy: ${source}; stop with Ctrl-C)`);
    // Failures seen while watching are counted once a minute, and at the stop, with the state
    // files invalid as last seen (the session's count: a file snapshotted since is valid again).
    const failures: ArkEvent[] = [];
    const sink: EventSink = (event) => {
      ctx.sink(event);
      if (event.kind === 'snapshot-failed') failures.push(event);
    };
    let invalidCount = () => 0;
    const flush = () => metrics.record(() => realtimeEventMetrics(failures.splice(0), invalidCount()));
    const flusher = metrics.file === null ? null : setInterval(() => void flush(), 60_000).unref();
    const session = await metrics.guard(() =>
      pipeline.watchRealtimeSnapshots({
        root: common.root,
        backupDir: common.backupDir,
        policy,
        sink,
        debounceMs,
        maxWaitMs,
        rescanMs,
      }),
    );
    invalidCount = () => session.invalidCount();
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      const onSignal = (s: NodeJS.Signals) => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        // A second signal while finishing: leave at once (a temp file may stay; the next run removes it).
        const force = () => {
          ctx.say('✗ stopped without finishing');
          process.exit(EXIT.failed);
        };
        process.once('SIGINT', force);
        process.once('SIGTERM', force);
        resolve(s);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
    ctx.say(`▶ ${signal}: finishing pending snapshots…`);
    const report = await session.stop();
    if (flusher) clearInterval(flusher);
    await flush();
    const t = report.totals;
    return {
      exitCode: EXIT.ok,
      summary: `✅ stopped after ${Math.round(report.durationMs / 1000)} s: ${t.written} snapshot(s) written, ${t.invalid} invalid version(s) refused, ${t.failed} failed, ${t.pruned} pruned`,
      policy: source,
      result: {
        mode: 'watch',
        signal,
        ...runFields(common.backupDir, report),
        invalid_states: report.invalid,
      },
    };
  },
);

/** The --json fields a one-shot run and a --watch session share. */
function runFields(
  backupDir: string,
  report: {
    startedAt: Date;
    totals: {
      written: number;
      bytesWritten: number;
      unchanged: number;
      invalid: number;
      failed: number;
      pruned: number;
    };
  },
) {
  const t = report.totals;
  return {
    backup_dir: backupDir,
    started_at: report.startedAt.toISOString(),
    snapshots_written: t.written,
    bytes_written: t.bytesWritten,
    unchanged: t.unchanged,
    invalid_count: t.invalid,
    failed_count: t.failed,
    pruned_count: t.pruned,
  };
}

function milliseconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 86_400_000)
    throw new UsageError(
      `${flag} must be a whole number of milliseconds between 1 and 86400000, got ${JSON.stringify(value)}`,
    );
  return Number(value);
}
