#!/usr/bin/env -S npx tsx
// Daily full backup (the runbook's ark_full_backup.sh): states, logs, models, infra,
// checksums and a manifest, published atomically under <backup-dir>/daily/arkalia_<DATE>/;
// with --point, a recovery point at the data sets' own frequencies (arkalia_<DATE>_<HHMM>/).
import type { TarChoice } from '../lib/archive/index.ts';
import { EXIT, UsageError } from '../lib/errors.ts';
import { isBackupDate, localDateStamp } from '../lib/layout/index.ts';
import { LOCK_TIMEOUT_HELP, parseLockTimeout } from '../lib/lock/index.ts';
import { fullBackupMetrics } from '../lib/metrics/index.ts';
import { newlyInvalid } from './cli/render-event.ts';
import { COMMON_HELP, policyLocation } from './cli/parse-options.ts';
import { runScript } from './cli/run-script.ts';
import { METRICS_HELP, METRICS_OPTION, runMetrics } from './cli/run-metrics.ts';

const HELP = `Usage: full-backup.mts [options]

Writes <backup-dir>/daily/arkalia_<DATE>/ with arkalia_states_<DATE>.tar.gz (states, config,
.env; mode 0600), arkalia_logs_<DATE>.tar.gz, ollama_models_<DATE>.tar.gz (when a models
folder exists), arkalia_infra_<DATE>.tar.gz, checksums_<DATE>.sha256 and
backup_manifest_<DATE>.json. Nothing appears under that name until the backup is complete.
Invalid TOML state files are archived anyway (they are what is on disk), named, and the
exit code is 3.

Si modifiés: an archive whose members (path, size, mode, mtime, ctime, inode) did not change
since the previous backup is not written again: after its checksum is verified, the new
backup holds a hard link to it (same bytes, no new space; a verified copy, said so, where a
link is impossible). Every backup stays complete: sha256sum -c and tar -xzf work on each.

Recovery points (--point; the schedule runs it every hour): arkalia_<DATE>/ when the day has
no backup yet, else arkalia_<DATE>_<HHMM>/ (local time), also complete. Only the archives
that are due are looked at: an archive is due when the most frequent of its data sets
(policy [datasets] frequency: realtime, PT1H, PT6H, PT12H, P1D) has elapsed since it was
captured (a run up to a sixth of that early, at most 10 minutes, counts). The others are carried from the previous point as they were captured; the
manifest gives each archive's captured_at, its recovery point.

Options:
  --point            a recovery point of the data sets that are due (see above)
  --date YYYYMMDD    date of the backup (default: today)
  --replace          replace an existing backup of that date (kept until the new one is complete)
  --dry-run          print what each archive would hold and which states are invalid; write nothing
  --no-prune         do not apply the retention policy after the backup (see prune.mts --help)
${LOCK_TIMEOUT_HELP}
${METRICS_HELP}
${COMMON_HELP}

One backup or prune runs at a time per backup folder. After a successful backup, expired
backups are deleted as prune.mts does (the new one and the newest that verifies are always
kept); a failed prune leaves the backup in place, is named, and makes the exit code 1 (3 if
a backup does not verify).

Environment: ARK_TAR=gnu packs the archives that are not live state with GNU tar, ARK_TAR=node
with node-tar (default: arkalia-dr's own packer, the fastest here). Live state files are
always read by arkalia-dr itself, once each, so that what is validated is what is archived.

Node 20: npx tsx scripts/full-backup.mts ...   Node >= 22.18: zx scripts/full-backup.mts ...`;

function tarChoice(value: string | undefined): TarChoice {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'builtin' || value === 'gnu' || value === 'node') return value;
  throw new UsageError(`ARK_TAR must be "builtin", "gnu", "node" or "auto", got ${JSON.stringify(value)}`);
}

await runScript(
  {
    help: HELP,
    options: {
      date: { type: 'string' },
      point: { type: 'boolean', default: false },
      replace: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      'no-prune': { type: 'boolean', default: false },
      'lock-timeout': { type: 'string' },
      ...METRICS_OPTION,
    },
    scriptUrl: import.meta.url,
  },
  async (ctx, { values, common }) => {
    const date = values.date ?? localDateStamp(new Date());
    if (!isBackupDate(date))
      throw new UsageError(`--date must be a calendar date as YYYYMMDD, got ${JSON.stringify(date)}`);
    const lockTimeoutMs = parseLockTimeout(values['lock-timeout']);
    const metrics = runMetrics(ctx, { flag: values['metrics-file'], type: 'full', dryRun: values['dry-run'] });

    // Loaded only now, so that --help and usage errors answer at once.
    const [{ loadPolicy }, { runFullBackup }] = await Promise.all([
      import('../lib/policy/index.ts'),
      import('../lib/pipeline/backup.ts'),
    ]);
    const { policy, source } = await metrics.guard(() => loadPolicy(policyLocation(common)));
    ctx.say(`🏗️  full backup of ${common.root} → ${common.backupDir} (${date}; policy: ${source})`);
    const report = await metrics.guard(() =>
      runFullBackup({
        root: common.root,
        backupDir: common.backupDir,
        date,
        policy,
        sink: ctx.sink,
        replace: values.replace,
        point: values.point,
        dryRun: values['dry-run'],
        prune: !values['no-prune'],
        lockTimeoutMs,
        tar: tarChoice(process.env.ARK_TAR),
      }),
    );
    await metrics.record((facts) => fullBackupMetrics(report, facts));
    const invalid = report.invalidStates;
    const pruned = report.prune;
    const pruneCorrupt = pruned?.ok ? pruned.report.corrupt : [];
    const exitCode =
      invalid.length > 0 || pruneCorrupt.length > 0
        ? EXIT.integrity
        : pruned?.ok === false
          ? pruned.error.exitCode
          : EXIT.ok;
    const reusedNote =
      report.reused.length === 0
        ? ''
        : ` (${report.reused.length} of ${report.manifest?.archives?.length ?? report.reused.length} archive(s) unchanged or not due: reused from arkalia_${report.reused[0]!.from})`;
    const done = report.dryRun ? '[dry run] nothing was written' : `backup complete: ${report.dir}${reusedNote}`;
    // Invalid files the previous point already held, for the same reason, are said but not
    // marked as a problem: an hourly job under -q (cron) mails only what is new.
    const fresh = newlyInvalid(ctx.events);
    const summary =
      invalid.length > 0
        ? `${fresh > 0 ? '⚠' : '•'} ${done}, but ${invalid.length} state file(s) are invalid TOML${report.dryRun ? ' and would be' : ' and were'} archived as they are${fresh < invalid.length ? ` (${invalid.length - fresh} already so in the previous point)` : ''}:\n${invalid.map((i) => `  - ${i.path}: ${i.reason}`).join('\n')}`
        : `✅ ${done}`;
    const pruneSummary = !pruned
      ? ''
      : !pruned.ok
        ? `\n✗ pruning failed (the backup is complete): ${pruned.error.message}`
        : `\n🧹 pruned: deleted ${pruned.report.deleted.length} backup(s)${pruned.report.deleted.length ? ` (${pruned.report.deleted.join(', ')})` : ''}, kept ${pruned.report.backups.length - pruned.report.deleted.length}` +
          pruneCorrupt.map((c) => `\n⚠ arkalia_${c.date} does NOT verify: ${c.problem}`).join('');
    const pruneResult = !pruned
      ? null
      : pruned.ok
        ? {
            deleted: pruned.report.deleted,
            kept: pruned.report.backups.filter((b) => b.action === 'keep').map((b) => b.date),
            newest_verified: pruned.report.newestVerified,
            corrupt: pruneCorrupt,
            hashed: pruned.report.hashed,
          }
        : { error: { code: pruned.error.code, message: pruned.error.message } };
    return {
      exitCode,
      summary: summary + pruneSummary,
      policy: source,
      result: {
        backup_dir: report.dir,
        date,
        stamp: report.date,
        reused: report.reused,
        invalid_states: invalid,
        manifest: report.manifest,
        dry_run: report.dryRun,
        prune: pruneResult,
      },
    };
  },
);
