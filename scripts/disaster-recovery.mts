#!/usr/bin/env -S npx tsx
// Full-system recovery (the runbook's ark_disaster_recovery.sh): states, configs and infra from
// the newest backup that passes verification, services stopped and restarted in the policy's
// order with health gates, then the API check. --test-mode restores into a sandbox instead.
// Only what argument checking needs is imported up front: a usage error answers at once.
import { EXIT, UsageError } from '../lib/errors.ts';
import { isBackupStamp } from '../lib/layout/index.ts';
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

const HELP = `Usage: disaster-recovery.mts [YYYYMMDD | YYYYMMDD_HHMM] [options]

Restores the states (modules/*/state/, state/, global_state/), configs (config/, .env) and
infra (docker-compose.yml, Dockerfile*, scripts/, version.toml, ...) of the newest daily
backup that passes verification — newer ones that do not are named with the reason — or of
the one of YYYYMMDD (never replaced by another). Real-time snapshots newer than the backup
are used for their state files; the report gives the recovery point of every file.

Order: verify every archive's checksum → extract into staging (unsafe entries refused,
decompression capped) → validate every TOML file → stop every service (reverse start order)
→ swap in under a journal (a run killed mid-swap is rolled back by the next run; SIGINT or
SIGTERM roll back before exiting) → preserve the previous files under <backup-dir>/preserved/
→ pre-start checks (TOML valid, version.toml readable, .env private) → start the services in
the policy's start order, each group healthy before the next → API check (policy [api],
default GET helloria /status). If no backup passes, no service is stopped and nothing changes.
State files the backup itself recorded as invalid TOML are restored as they were, and named.

Options:
  --test-mode              the weekly test restore: restore into a sandbox folder instead of
                           the root, leave services alone, report how it differs from the live
                           tree (added / removed / changed files, with sha256). Exit 0 when the
                           sandbox restore itself succeeded.
  --sandbox DIR            with --test-mode: restore into DIR (new or empty; kept afterwards).
                           Default: a temporary folder, removed afterwards.
  --boot                   with --test-mode: then start what was restored as a separate
                           Compose project (same images, its own network, no published ports,
                           no fixed container names), wait until every service is healthy,
                           record each one, and tear it down. The live stack is never
                           touched. Exit 1 when it does not come up.
  --boot-timeout T         how long the booted sandbox may take to become healthy (seconds,
                           or PT5M; default PT3M)
${RESTORE_HELP}
${COMMON_HELP}`;

await runScript(
  {
    help: HELP,
    options: {
      ...RESTORE_OPTIONS,
      'test-mode': { type: 'boolean', default: false },
      sandbox: { type: 'string' },
      boot: { type: 'boolean', default: false },
      'boot-timeout': { type: 'string' },
    },
    positionals: true,
    scriptUrl: import.meta.url,
  },
  async (ctx, { values, positionals, common }) => {
    const [{ parseSize }, { parseLockTimeout }] = await Promise.all([
      import('../lib/archive/index.ts'),
      import('../lib/lock/index.ts'),
    ]);
    const settings = restoreSettings(values, { parseSize, parseLockTimeout });
    const [date, ...extra] = positionals;
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}; see --help`);
    requireNamedRoot(common, 'disaster-recovery');
    if (date !== undefined && !isBackupStamp(date))
      throw new UsageError(
        `backup date must be a calendar date as YYYYMMDD, or a recovery point as YYYYMMDD_HHMM, got ${JSON.stringify(date)}`,
      );
    const testMode = values['test-mode'] === true;
    if (values.sandbox !== undefined && !testMode)
      throw new UsageError('--sandbox is only for --test-mode (a test restore into that folder); see --help');
    const boot = values.boot === true;
    if (boot && !testMode)
      throw new UsageError('--boot starts what a test restore restored: it needs --test-mode; see --help');
    if (values['boot-timeout'] !== undefined && !boot) throw new UsageError('--boot-timeout is for --boot; see --help');
    const bootTimeoutMs = boot ? bootTimeout(values['boot-timeout'] ?? 'PT3M', parseLockTimeout) : 0;
    if (testMode && settings.resume)
      throw new UsageError(
        '--resume settles an interrupted restore of the live root; it cannot be combined with --test-mode',
      );

    const [{ disasterRecovery }, run] = await Promise.all([
      import('../lib/pipeline/disaster-recovery.ts'),
      prepareRestore(common, settings, ctx),
    ]);
    const { policy, policySource: source, services, servicesNote, signal, lock, compose } = run;
    if (boot && !compose)
      throw new UsageError(
        '--boot needs the compose file the stack runs from: there is none in the root (give --compose FILE)',
      );
    if (settings.resume) return settleInterruptedRestore(common, run, ctx);

    const what = testMode
      ? `test restore (sandbox ${values.sandbox ?? 'temporary'}; live root and services untouched)`
      : 'DISASTER RECOVERY';
    ctx.say(
      `💥 ${what} of ${common.root} from ${common.backupDir} (policy: ${source})${settings.dryRun ? ' — dry run' : ''}`,
    );
    ctx.say(`  ${servicesNote}`);
    const pauseAt = testPauseHook(process.env, signal, ctx.say);
    const report = await disasterRecovery({
      root: common.root,
      backupDir: common.backupDir,
      ...(date ? { date } : {}),
      policy,
      services,
      sink: ctx.sink,
      dryRun: settings.dryRun,
      limits: settings.limits,
      signal,
      ...(testMode ? { sandbox: values.sandbox ? { dir: values.sandbox, keep: true } : ('temporary' as const) } : {}),
      ...(boot && compose ? { boot: { compose, timeoutMs: bootTimeoutMs } } : {}),
      ...(settings.snapshots === false ? { snapshots: false } : {}),
      ...(pauseAt ? { pauseAt } : {}),
      ...lock,
    });

    const changed = report.changes.filter((c) => c.action !== 'unchanged').length;
    const lines: string[] = [];
    if (report.rejected.length > 0)
      lines.push(`⚠ newer backup(s) rejected: ${report.rejected.map((r) => `${r.backup} (${r.code})`).join(', ')}`);
    const others = otherRecoveryPoints(report);
    lines.push(
      `  recovery point: ${report.backup.recoveryPoint ?? 'unknown'} (${report.backup.label})${others ? `; ${others}` : ''}`,
    );
    if (report.knownInvalid.length > 0)
      lines.push(
        `⚠ restored as they were, already invalid TOML when backed up: ${report.knownInvalid.map((k) => k.path).join(', ')}`,
      );
    if (report.dryRun) lines.push(`[dry run] ${changed} file(s) would change; nothing was modified`);
    else if (report.diff) {
      const d = report.diff;
      lines.push(
        `✅ test restore of ${report.backup.label} succeeded into ${report.sandbox!.dir}${report.sandbox!.kept ? '' : ' (removed)'}: vs the live tree ${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed, ${d.unchanged} unchanged`,
      );
    } else {
      const started = report.services.started.map((s) => s.container);
      const api = report.services.api?.checked
        ? `; API ${report.services.api.url} → ${report.services.api.status}`
        : '';
      lines.push(
        `✅ recovered from ${report.backup.dir ?? report.backup.label}: ${changed} file(s) changed; ${report.preservedAt ? `previous files preserved in ${report.preservedAt}` : 'nothing needed preserving'}; ${started.length > 0 ? `started ${started.join(', ')}` : 'no service started'}${api}`,
      );
    }
    if (report.boot) {
      const b = report.boot;
      const each = b.services.map((s) => `${s.name} ${s.health}`).join(', ');
      lines.push(
        b.ok
          ? `✅ booted as Compose project ${b.project} on the restored state: ${each} (up ${(b.ms.up / 1000).toFixed(1)} s, torn down ${(b.ms.down / 1000).toFixed(1)} s; live stack untouched)`
          : `✗ the restored sandbox did not boot: ${b.error} (${each}); torn down, live stack untouched`,
      );
    }
    return {
      exitCode: report.boot && !report.boot.ok ? EXIT.failed : EXIT.ok,
      summary: lines.join('\n'),
      policy: source,
      result: { ...report },
    };
  },
);

/** --boot-timeout: seconds or an ISO-8601 duration, more than 0. */
function bootTimeout(value: string, parse: (v: string) => number): number {
  let ms: number;
  try {
    ms = parse(value);
  } catch {
    ms = 0;
  }
  if (ms <= 0)
    throw new UsageError(
      `--boot-timeout must be seconds (e.g. 180) or an ISO-8601 duration (e.g. PT3M), got ${JSON.stringify(value)}`,
    );
  return ms;
}
