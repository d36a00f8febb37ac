#!/usr/bin/env -S npx tsx
// Emergency restore of one module's state (the runbook's ark_emergency_restore.sh):
// verify the backup first, stage, validate, preserve the corrupted state, swap in, restart.
// Only what argument checking needs is imported up front: a usage error answers at once.
import { EXIT, UsageError } from '../lib/errors.ts';
import { isBackupDate } from '../lib/pipeline/backup-layout.ts';
import { assertModuleName } from '../lib/restore/module-name.ts';
import { COMMON_HELP, commonOptions, parseOptions } from './cli/parse-options.ts';
import { runScript } from './cli/run-script.ts';

const HELP = `Usage: emergency-restore.mts <module> [YYYYMMDD] [options]

Restores modules/<module>/state/ from the newest daily backup (or the one of YYYYMMDD).
The backup's checksum is verified before anything is extracted; the state is extracted to
a staging folder and validated as TOML; only then is the service stopped, the current
(corrupted) state preserved under <backup-dir>/preserved/, the files swapped in one by one
(atomically), the service restarted and its health awaited. On any failure the live files
are left as they were. Works with backups written by the original bash runbook.

Options:
  --services docker|none   stop/start the module's container via Docker (default: docker),
                           or leave services alone
  --dry-run                print the plan (backup, files with current and backup sha256,
                           services) and change nothing
${COMMON_HELP}`;

await runScript(async (ctx) => {
  const { values, positionals } = parseOptions(ctx.argv, { services: { type: 'string', default: 'docker' }, 'dry-run': { type: 'boolean', default: false } }, true);
  const common = commonOptions(values);
  ctx.setJson(common.json);
  if (common.help) {
    process.stdout.write(`${HELP}\n`);
    return { exitCode: EXIT.ok };
  }
  const [module, date, ...extra] = positionals;
  if (module === undefined) throw new UsageError('missing <module> (for example: emergency-restore.mts zeroia); see --help');
  assertModuleName(module);
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}; see --help`);
  if (date !== undefined && !isBackupDate(date)) throw new UsageError(`backup date must be a calendar date as YYYYMMDD, got ${JSON.stringify(date)}`);
  const kind = values.services ?? 'docker';
  if (kind !== 'docker' && kind !== 'none') throw new UsageError(`--services must be "docker" or "none", got ${JSON.stringify(kind)}`);

  const [{ emergencyRestore }, { loadPolicy }, { serviceController }] = await Promise.all([
    import('../lib/pipeline/emergency-restore.ts'),
    import('../lib/policy/index.ts'),
    import('../lib/services/index.ts'),
  ]);
  const services = serviceController(kind);

  const { policy, source } = await loadPolicy({ root: common.root, ...(common.policyFile ? { file: common.policyFile } : {}) });
  ctx.say(`🔄 emergency restore of ${module} in ${common.root} from ${common.backupDir} (policy: ${source})${values['dry-run'] ? ' — dry run' : ''}`);
  const report = await emergencyRestore({ root: common.root, backupDir: common.backupDir, module, ...(date ? { date } : {}), policy, services, sink: ctx.sink, dryRun: values['dry-run'] });
  const changed = report.changes.filter((c) => c.action !== 'unchanged').length;
  const summary = report.dryRun
    ? `[dry run] ${changed} file(s) would change; nothing was modified`
    : `✅ ${module} restored from ${report.backup.dir} (recovery point ${report.backup.recoveryPoint}); ${changed} file(s) changed; previous state preserved in ${report.preservedAt}`;
  return { exitCode: EXIT.ok, summary, result: { ...report } };
}, { scriptUrl: import.meta.url });
