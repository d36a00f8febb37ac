#!/usr/bin/env -S npx tsx
// Retention for daily backups (replaces the runbook's `find -mtime +30 -exec rm -rf`, which
// can delete the only good backup): keep by the backup's own date and the policy, never the
// newest backup that verifies, delete crash-safely, one run at a time per backup folder.
import { EXIT } from '../lib/errors.ts';
import { LOCK_TIMEOUT_HELP, parseLockTimeout } from '../lib/lock/index.ts';
import { RETENTION_RULES } from '../lib/retention/index.ts';
import { formatBytes } from './cli/render-event.ts';
import { pruneMetrics } from '../lib/metrics/index.ts';
import { COMMON_HELP, policyLocation } from './cli/parse-options.ts';
import { runScript } from './cli/run-script.ts';
import { METRICS_HELP, METRICS_OPTION, runMetrics } from './cli/run-metrics.ts';

const HELP = `Usage: prune.mts [options]

Deletes expired daily backups from <backup-dir>/daily/ according to the policy's [retention]
table (built-in: daily_days = 30, the runbook's "nettoyage backups > 30 jours").

${RETENTION_RULES}

Verification reads every archive a backup's checksum file lists; only the backups whose
result decides something are verified (newest first until one verifies, and the candidates
of keep_daily/weekly/monthly). A deleted backup is first renamed to a hidden
.arkalia_<DATE>.trash-* folder, then removed: a prune interrupted halfway never leaves a
half-deleted backup that looks complete, and the next prune finishes the removal.
One backup or prune runs at a time per backup folder (lock file <backup-dir>/.arkalia-dr.lock);
full-backup.mts prunes after each successful backup unless --no-prune.

Options:
  --dry-run          verify what the plan needs, print every decision, delete nothing
${LOCK_TIMEOUT_HELP}
${METRICS_HELP}
${COMMON_HELP}
Exit 3 also when a backup does not verify (it is named; nothing is deleted when none verifies).

Node 20: npx tsx scripts/prune.mts ...   Node >= 22.18: zx scripts/prune.mts ...`;

await runScript(
  {
    help: HELP,
    options: { 'dry-run': { type: 'boolean', default: false }, 'lock-timeout': { type: 'string' }, ...METRICS_OPTION },
    scriptUrl: import.meta.url,
  },
  async (ctx, { values, common }) => {
    const lockTimeoutMs = parseLockTimeout(values['lock-timeout']);
    const dryRun = values['dry-run'] ?? false;
    const metrics = runMetrics(ctx, { flag: values['metrics-file'], type: 'prune', dryRun });

    // Loaded only now, so that --help and usage errors answer at once.
    const [{ loadPolicy }, { runPrune }] = await Promise.all([
      import('../lib/policy/index.ts'),
      import('../lib/pipeline/prune.ts'),
    ]);
    const { policy, source } = await metrics.guard(() => loadPolicy(policyLocation(common)));
    const r = policy.retention;
    const rules = [
      `daily_days ${r.daily_days}`,
      ...(['keep_daily', 'keep_weekly', 'keep_monthly', 'points_hours'] as const)
        .filter((k) => r[k])
        .map((k) => `${k} ${r[k]}`),
    ].join(', ');
    ctx.say(`🧹 prune ${common.backupDir}/daily (${rules}; policy: ${source})${dryRun ? ' — dry run' : ''}`);
    const started = Date.now();
    const report = await metrics.guard(() =>
      runPrune({ backupDir: common.backupDir, retention: r, sink: ctx.sink, dryRun, lockTimeoutMs }),
    );
    await metrics.record((facts) => pruneMetrics(report, facts));

    const kept = report.backups.length - report.deleted.length;
    const { space } = report;
    const sizes = `${report.dryRun ? 'would free' : 'freed'} ${formatBytes(space.freedBytes)}; the kept ones use ${formatBytes(space.keptBytes)} on disk (${formatBytes(space.keptApparentBytes)} by names: unchanged archives are shared as hard links)`;
    const done = report.dryRun
      ? `[dry run] would delete ${report.deleted.length} backup(s), keep ${kept}; nothing was changed`
      : `✅ deleted ${report.deleted.length} backup(s), kept ${kept}`;
    const corrupt = report.corrupt.map((c) => `  - arkalia_${c.date}: ${c.problem}`).join('\n');
    const summary =
      report.corrupt.length > 0
        ? `⚠ ${done.replace(/^✅ /, '')}; ${report.corrupt.length} backup(s) do NOT verify:\n${corrupt}`
        : report.backups.length === 0
          ? `✅ no backups in ${common.backupDir}/daily: nothing to do`
          : done;
    const spaceLine = report.backups.length === 0 ? '' : `\n💾 ${sizes}`;
    return {
      exitCode: report.corrupt.length > 0 ? EXIT.integrity : EXIT.ok,
      summary: summary + spaceLine,
      policy: source,
      result: {
        backup_dir: report.backupDir,
        today: report.today,
        dry_run: report.dryRun,
        retention: r,
        newest_verified: report.newestVerified,
        deleted: report.deleted,
        corrupt: report.corrupt,
        backups: report.backups.map((b) => ({
          date: b.date,
          dir: b.dir,
          action: b.action,
          age_days: b.ageDays,
          status: b.status,
          problem: b.problem,
          reasons: b.reasons,
        })),
        trash_removed: report.trashRemoved,
        ignored: report.ignored,
        hashed: report.hashed,
        space: {
          freed_bytes: space.freedBytes,
          kept_bytes: space.keptBytes,
          kept_apparent_bytes: space.keptApparentBytes,
        },
        lock_waited_ms: report.lockWaitedMs,
        duration_ms: Date.now() - started,
      },
    };
  },
);
