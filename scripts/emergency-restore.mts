#!/usr/bin/env -S npx tsx
// Emergency restore of one module's state (the runbook's ark_emergency_restore.sh):
// verify the backup first (falling back to the newest good one), stage, validate, swap in
// under a journal, preserve the corrupted state, restart.
// Only what argument checking needs is imported up front: a usage error answers at once.
import { EXIT, UsageError } from '../lib/errors.ts';
import { isBackupStamp } from '../lib/layout/index.ts';
import { assertModuleName } from '../lib/restore/index.ts';
import { COMMON_HELP, requireNamedRoot } from './cli/parse-options.ts';
import { otherRecoveryPoints } from './cli/recovery-points.ts';
import {
  RESTORE_HELP,
  RESTORE_OPTIONS,
  restoreSettings,
  prepareRestore,
  settleInterruptedRestore,
  testPauseHook,
} from './cli/restore-options.ts';
import { runScript } from './cli/run-script.ts';

const HELP = `Usage: emergency-restore.mts <module> [YYYYMMDD | YYYYMMDD_HHMM] [options]

Restores modules/<module>/state/ from the newest daily backup that passes verification (a
newer one that does not is named with the reason), or from the one of YYYYMMDD (never
replaced by another: if it does not verify, nothing is restored). Each archive's checksum is
verified before anything is extracted; the state is extracted to a staging folder (unsafe
entries refused, decompression capped) and validated as TOML; real-time snapshots newer than
the backup are used for their files. Only then is the service stopped, the files swapped in
atomically under a journal (a run killed mid-swap is rolled back by the next run), the
corrupted state preserved under <backup-dir>/preserved/, the service restarted and its
health awaited. On any failure before that the live files are left as they were.
Works with backups written by the original bash runbook.

Options:
${RESTORE_HELP}
${COMMON_HELP}`;

await runScript(
  { help: HELP, options: RESTORE_OPTIONS, positionals: true, scriptUrl: import.meta.url },
  async (ctx, { values, positionals, common }) => {
    const [{ parseSize }, { parseLockTimeout }] = await Promise.all([
      import('../lib/archive/index.ts'),
      import('../lib/lock/index.ts'),
    ]);
    const settings = restoreSettings(values, { parseSize, parseLockTimeout });
    const [module, date, ...extra] = positionals;
    if (module === undefined && !settings.resume)
      throw new UsageError('missing <module> (for example: emergency-restore.mts zeroia); see --help');
    if (module !== undefined) assertModuleName(module);
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}; see --help`);
    requireNamedRoot(common, 'emergency-restore');
    if (date !== undefined && !isBackupStamp(date))
      throw new UsageError(
        `backup date must be a calendar date as YYYYMMDD, or a recovery point as YYYYMMDD_HHMM, got ${JSON.stringify(date)}`,
      );

    const [{ emergencyRestore }, run] = await Promise.all([
      import('../lib/pipeline/emergency-restore.ts'),
      prepareRestore(common, settings, ctx),
    ]);
    const { policy, policySource: source, services, servicesNote, signal, lock } = run;
    if (settings.resume) return settleInterruptedRestore(common, run, ctx);

    ctx.say(
      `🔄 emergency restore of ${module} in ${common.root} from ${common.backupDir} (policy: ${source})${settings.dryRun ? ' — dry run' : ''}`,
    );
    ctx.say(`  ${servicesNote}`);
    const pauseAt = testPauseHook(process.env, signal, ctx.say);
    const report = await emergencyRestore({
      root: common.root,
      backupDir: common.backupDir,
      module: module!,
      ...(date ? { date } : {}),
      policy,
      services,
      sink: ctx.sink,
      dryRun: settings.dryRun,
      limits: settings.limits,
      signal,
      ...(settings.snapshots === false ? { snapshots: false } : {}),
      ...(pauseAt ? { pauseAt } : {}),
      ...lock,
    });
    const changed = report.changes.filter((c) => c.action !== 'unchanged').length;
    const fallback =
      report.rejected.length > 0
        ? ` (newer backup(s) rejected: ${report.rejected.map((r) => `${r.backup}: ${r.code}`).join(', ')})`
        : '';
    const others = otherRecoveryPoints(report);
    const point = others ? `${report.backup.recoveryPoint}; ${others}` : report.backup.recoveryPoint;
    const summary = report.dryRun
      ? `[dry run] ${changed} file(s) would change; nothing was modified`
      : `✅ ${module} restored from ${report.backup.dir}${fallback} (recovery point ${point}); ${changed} file(s) changed; ${report.preservedAt ? `previous state preserved in ${report.preservedAt}` : 'nothing needed preserving'}`;
    return { exitCode: EXIT.ok, summary, policy: source, result: { ...report } };
  },
);
