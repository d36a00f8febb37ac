#!/usr/bin/env -S npx tsx
// The backup schedule from the policy's frequencies: cron entries for /etc/cron.d or systemd
// timer/service units, printed (default) or installed with --install DIR.
import { readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { ArkError, EXIT, UsageError } from '../lib/errors.ts';
import { INSTALL_DIR } from './cli/install-dir.ts';
import { loadPolicy } from '../lib/policy/index.ts';
import {
  CRON_FILE_NAME,
  parseTimeOfDay,
  planSchedule,
  renderCron,
  renderSystemd,
  unitsToEnable,
  type ScheduleEnv,
  type UnitFile,
} from '../lib/schedule/index.ts';
import { writeFileAtomic } from '../lib/state/index.ts';
import { COMMON_HELP, policyLocation } from './cli/parse-options.ts';
import { runScript } from './cli/run-script.ts';

const DEFAULT_METRICS_FILE = '/var/lib/prometheus/node-exporter/arkalia-dr.prom';

const HELP = `Usage: schedule.mts [--format cron|systemd] [--install DIR [--force]] [options]

Prints (or installs) the backup schedule, generated from the policy's frequencies:
  - real-time data sets: realtime-snapshot.mts --watch as a systemd service restarted on
    failure (cron: one pass every minute);
  - a recovery point (full-backup.mts --point) as often as the most frequent data set
    needs (built-in: hourly, for the database's PT1H), the day's first at --at (03:00);
    when it is published (exit 0, or 3: invalid state files archived and named), prune,
    then encrypted-backup (whatever prune found); remote-sync when encryption succeeded.
    A failed point (exit 1, 4 locked) stops the chain. systemd: OnSuccess= (systemd >= 249);
  - the maintenance checklist: verify.mts --daily, --weekly (Sunday), --monthly (the 1st),
    from --at + 2 h.
systemd services are sandboxed: the file system read-only but the backup folder, the
metrics file's folder and a local --to folder (ProtectSystem=strict, ReadWritePaths=),
private /tmp, NoNewPrivileges=. A local offsite folder given only by ARK_OFFSITE needs a
drop-in with its own ReadWritePaths=.
A data set wanted more often than every minute (other than realtime) is named in the
generated files as not honoured. Intervals cron and OnCalendar= cannot run exactly
(e.g. PT7H, P2D) are refused (exit 2).

Options:
  --format F           cron (a file for /etc/cron.d, with the user field) or systemd; default cron
  --at HH:MM           time of the full backup (local time; default 03:00)
  --user NAME          the user the jobs run as (default: the current user)
  --metrics-file PATH  ARK_METRICS_FILE of the jobs (default: env ARK_METRICS_FILE, else
                       ${DEFAULT_METRICS_FILE})
  --secrets-file FILE  root-only KEY=value file with the jobs' secrets (ARK_PASSPHRASE, AWS_*,
                       ARK_RECIPIENTS, ARK_OFFSITE), read by node --env-file (cron) or
                       EnvironmentFile= (systemd); never copied into the generated files
  --recipient FILE     encrypted-backup's public key (repeatable); --keyring DIR its keyring
  --to TARGET          remote-sync's target (else ARK_OFFSITE in the jobs' environment)
  --install DIR        write the files into DIR (e.g. /etc/cron.d or /etc/systemd/system),
                       atomically; an existing file with other content is refused unless --force
  --force              with --install: replace existing files that differ
${COMMON_HELP}
--root, --backup-dir and --policy are those of the jobs (written as absolute paths).

Node 20: npx tsx scripts/schedule.mts ...   Node >= 22.18: zx scripts/schedule.mts ...`;

await runScript(
  {
    help: HELP,
    options: {
      format: { type: 'string', default: 'cron' },
      at: { type: 'string', default: '03:00' },
      user: { type: 'string' },
      'metrics-file': { type: 'string' },
      // Not --env-file: Node 20 reads that flag anywhere on its command line, even after the script.
      'secrets-file': { type: 'string' },
      recipient: { type: 'string', multiple: true },
      keyring: { type: 'string' },
      to: { type: 'string' },
      install: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
    scriptUrl: import.meta.url,
  },
  async (ctx, { values, common }) => {
    const format = values.format;
    if (format !== 'cron' && format !== 'systemd')
      throw new UsageError(`--format must be cron or systemd, got ${JSON.stringify(format)}`);
    const at = parseTimeOfDay(values.at);
    if (values.force && values.install === undefined) throw new UsageError('--force only applies with --install DIR');
    const abs = (path: string) => resolve(path);
    const { policy, source } = await loadPolicy(policyLocation(common));

    const plan = planSchedule(policy, {
      at,
      args: {
        common: common.policyFile ? ['--policy', common.policyFile] : [],
        'encrypted-backup': [
          ...(values.recipient ?? []).flatMap((f) => ['--recipient', abs(f)]),
          ...(values.keyring ? ['--keyring', abs(values.keyring)] : []),
        ],
        'remote-sync': values.to ? ['--to', values.to] : [],
      },
    });
    const env: ScheduleEnv = {
      node: process.execPath,
      ark: join(INSTALL_DIR, 'bin', 'ark.mjs'),
      user: values.user ?? userInfo().username,
      root: common.root,
      backupDir: common.backupDir,
      metricsFile: abs(values['metrics-file'] ?? (process.env.ARK_METRICS_FILE || DEFAULT_METRICS_FILE)),
      ...(values['secrets-file'] ? { secretsFile: abs(values['secrets-file']) } : {}),
      policySource: source,
    };
    const files: UnitFile[] =
      format === 'cron' ? [{ name: CRON_FILE_NAME, content: renderCron(plan, env) }] : renderSystemd(plan, env);
    const next =
      format === 'cron'
        ? [
            `cron reads ${values.install ?? '/etc/cron.d'}/${CRON_FILE_NAME} by itself: it must belong to root, mode 0644 (no group/other write), its name without dots`,
          ]
        : ['systemctl daemon-reload', `systemctl enable --now ${unitsToEnable(plan).join(' ')}`];

    if (values.install === undefined) {
      if (!common.json)
        process.stdout.write(
          files.map((f) => (format === 'cron' ? f.content : `### ${f.name}\n${f.content}`)).join('\n'),
        );
      return { exitCode: EXIT.ok, policy: source, result: { format, files, next } };
    }

    // --install: compare everything first, so that a refusal changes nothing; then write each atomically.
    const dir = abs(values.install);
    if (
      !(await stat(dir).then(
        (s) => s.isDirectory(),
        () => false,
      ))
    )
      throw new UsageError(`--install ${dir} is not a folder (e.g. /etc/cron.d or /etc/systemd/system)`);
    const planned = await Promise.all(
      files.map(async (f) => {
        const current = await readFile(join(dir, f.name), 'utf8').catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return null;
          throw error;
        });
        return {
          ...f,
          path: join(dir, f.name),
          action:
            current === null ? 'created' : current === f.content ? 'unchanged' : values.force ? 'replaced' : 'conflict',
        };
      }),
    );
    const conflicts = planned.filter((f) => f.action === 'conflict');
    if (conflicts.length > 0) {
      throw new ArkError(
        'SCHEDULE_FILE_EXISTS',
        `${conflicts.map((f) => f.path).join(', ')} already exist${conflicts.length === 1 ? 's' : ''} with other content: nothing was written. Compare (schedule.mts prints what it would write), then run again with --force to replace ${conflicts.length === 1 ? 'it' : 'them'}.`,
        {
          details: { conflicts: conflicts.map((f) => f.path) },
        },
      );
    }
    for (const f of planned) {
      if (f.action !== 'unchanged') await writeFileAtomic(f.path, f.content, { mode: 0o644 });
      ctx.say(`${f.action === 'unchanged' ? ' ' : '✓'} ${f.action.padEnd(9)} ${f.path}`);
    }
    const changed = planned.some((f) => f.action !== 'unchanged');
    return {
      exitCode: EXIT.ok,
      summary: `${changed ? '✅ installed' : '✅ already installed'} (${format}) in ${dir}. Next:\n${next.map((n) => `  ${n}`).join('\n')}`,
      policy: source,
      result: {
        format,
        dir,
        files: planned.map(({ name, path, action }) => ({ name, path, action })),
        next,
      },
    };
  },
);
