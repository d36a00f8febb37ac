import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../policy/index.ts';
import { REPO_ROOT, tempDir } from '../testing.ts';
import {
  chainOf,
  cronQuote,
  durationToCalendar,
  parseTimeOfDay,
  planSchedule,
  renderCron,
  renderSystemd,
  shellChain,
  systemdQuote,
  unitsToEnable,
  type ScheduleEnv,
} from './index.ts';

const run = promisify(execFile);
const AT = { hour: 3, minute: 0 };
const ENV: ScheduleEnv = {
  node: '/usr/bin/node',
  ark: '/opt/arkalia-dr/bin/ark.mjs',
  user: 'arkalia',
  root: '/srv/arkalia-luna-pro',
  backupDir: '/backup',
  metricsFile: '/var/lib/prometheus/node-exporter/arkalia-dr.prom',
  policySource: 'built-in',
};
const systemdAnalyze = await run('systemd-analyze', ['--version']).then(
  () => true,
  () => false,
);

/** Does a five-field cron expression fire at `t` (UTC fields)? The forms we write: *, N, a,b, * /n, a-b/n. */
function cronMatches(expr: string, t: Date): boolean {
  const values = [t.getUTCMinutes(), t.getUTCHours(), t.getUTCDate(), t.getUTCMonth() + 1, t.getUTCDay()];
  return expr.split(' ').every((field, i) =>
    field.split(',').some((part) => {
      const m = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part);
      if (!m) throw new Error(`unexpected cron field ${part}`);
      const v = values[i]!;
      const start = m[1] === '*' ? 0 : Number(m[1]);
      const end = m[2] !== undefined ? Number(m[2]) : m[1] === '*' || m[3] !== undefined ? Infinity : start;
      return v >= start && v <= end && (v - start) % Number(m[3] ?? 1) === 0;
    }),
  );
}

/** Minutes between consecutive firings over `days` days from `from`. */
function cronGaps(expr: string, from: Date, days: number): number[] {
  const fired: number[] = [];
  for (let minute = 0; minute < days * 1440; minute += 1)
    if (cronMatches(expr, new Date(from.getTime() + minute * 60_000))) fired.push(minute);
  return fired.slice(1).map((m, i) => m - fired[i]!);
}

describe('durationToCalendar', () => {
  const cases: [string, { hour: number; minute: number }, string, string, string][] = [
    ['PT1M', AT, '* * * * *', '*-*-* *:00/1:00', 'every minute'],
    [
      'PT15M',
      { hour: 3, minute: 10 },
      '10-59/15 * * * *',
      '*-*-* *:10/15:00',
      'every 15 min (from minute 10 of each hour)',
    ],
    ['PT30M', AT, '*/30 * * * *', '*-*-* *:00/30:00', 'every 30 min (from minute 0 of each hour)'],
    ['PT1H', { hour: 3, minute: 20 }, '20 * * * *', '*-*-* *:20:00', 'hourly at minute 20'],
    ['PT60M', AT, '0 * * * *', '*-*-* *:00:00', 'hourly at minute 0'],
    ['PT6H', AT, '0 3,9,15,21 * * *', '*-*-* 03,09,15,21:00:00', 'every 6 h at 03:00, 09:00, 15:00 and 21:00'],
    ['PT12H', { hour: 14, minute: 30 }, '30 2,14 * * *', '*-*-* 02,14:30:00', 'every 12 h at 02:30 and 14:30'],
    ['P1D', AT, '0 3 * * *', '*-*-* 03:00:00', 'daily at 03:00'],
    ['PT24H', { hour: 23, minute: 59 }, '59 23 * * *', '*-*-* 23:59:00', 'daily at 23:59'],
    ['P7D', AT, '0 3 * * 0', 'Sun *-*-* 03:00:00', 'weekly on Sunday at 03:00'],
    ['P1W', AT, '0 3 * * 0', 'Sun *-*-* 03:00:00', 'weekly on Sunday at 03:00'],
    ['P1M', AT, '0 3 1 * *', '*-*-01 03:00:00', 'monthly on the 1st at 03:00'],
  ];

  it.each(cases)('%s at %j → cron "%s"', async (iso, at, cron, onCalendar, description) => {
    expect(durationToCalendar(iso, at)).toEqual({ cron, onCalendar, description });
    if (systemdAnalyze) {
      const { stdout } = await run('systemd-analyze', ['calendar', onCalendar]);
      expect(stdout).toContain(`Normalized form: ${onCalendar}`);
    }
  });

  it('fires exactly every interval, across midnight, month ends and a leap day (cron simulated minute by minute; systemd when available)', async () => {
    const from = new Date('2028-02-27T00:00:00Z'); // through 29 February and into March
    for (const iso of ['PT1M', 'PT5M', 'PT20M', 'PT1H', 'PT3H', 'PT8H', 'PT12H', 'P1D']) {
      const minutes = iso === 'P1D' ? 1440 : Number(/(\d+)/.exec(iso)![1]) * (iso.endsWith('H') ? 60 : 1);
      const spec = durationToCalendar(iso, { hour: 5, minute: 0 });
      const gaps = cronGaps(spec.cron, from, iso === 'PT1M' ? 1 : 4);
      expect(gaps.length, iso).toBeGreaterThan(0);
      expect(new Set(gaps), `${iso}: ${spec.cron}`).toEqual(new Set([minutes]));
      if (systemdAnalyze) {
        const { stdout } = await run('systemd-analyze', ['calendar', '--iterations=6', spec.onCalendar], {
          env: { ...process.env, TZ: 'UTC' },
        });
        const times = [...stdout.matchAll(/(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/g)].map(
          (m) => Date.parse(`${m[1]}Z`),
        );
        expect(new Set(times.slice(1).map((t, i) => (t - times[i]!) / 60_000)), `${iso}: ${spec.onCalendar}`).toEqual(
          new Set([minutes]),
        );
      }
    }
    const weekly = cronGaps(durationToCalendar('P7D', AT).cron, from, 29);
    expect(new Set(weekly)).toEqual(new Set([7 * 1440]));
  });

  it.each([
    [
      'PT7H',
      /PT7H: every 7 h cannot be scheduled exactly \(24 h is not a multiple of 7 h, so the gap across midnight would differ\); use .*PT6H, PT8H/,
    ],
    ['PT5H', /every 5 h cannot be scheduled exactly/],
    ['PT45M', /PT45M: every 45 min cannot be scheduled exactly \(60 is not a multiple of 45/],
    ['PT90M', /PT90M: 90 min is not a whole number of hours/],
    ['PT1H30M', /PT1H30M: 90 min is not a whole number of hours/],
    ['P2D', /P2D: every 2 days cannot be scheduled exactly/],
    ['PT36H', /PT36H: every 36 h cannot be scheduled exactly/],
    ['PT30S', /resolution of one minute/],
    ['P2M', /only P1M \(monthly, on the 1st\) is schedulable/],
    ['P1Y', /only P1M/],
    ['PT0S', /a zero interval/],
    ['6h', /not an ISO-8601 duration/],
    ['PT1.5H', /not an ISO-8601 duration/],
  ])('refuses %s, saying why and what to use instead', (iso, message) => {
    expect(() => durationToCalendar(iso, AT)).toThrow(
      expect.objectContaining({ code: 'SCHEDULE_INEXACT', exitCode: 2, message: expect.stringMatching(message) }),
    );
  });

  it('reads times of day as HH:MM only', () => {
    expect(parseTimeOfDay('03:00')).toEqual({ hour: 3, minute: 0 });
    expect(parseTimeOfDay('7:05')).toEqual({ hour: 7, minute: 5 });
    for (const bad of ['24:00', '3', '03:60', '03:00:00', ' 03:00', '3h'])
      expect(() => parseTimeOfDay(bad), bad).toThrow(/--at must be a time of day as HH:MM/);
  });
});

describe('planSchedule', () => {
  it('the built-in policy: cron and systemd files (snapshots: what an operator installs changes only on purpose)', () => {
    const plan = planSchedule(resolvePolicy({}, 'built-in'), { at: AT });
    expect(plan.datasets.map((d) => [d.dataset, d.frequency, d.honouredBy])).toEqual([
      ['states', 'realtime', 'realtime-snapshot'],
      ['configs', 'PT6H', 'full-backup'],
      ['logs', 'PT12H', 'full-backup'],
      ['models', 'P1D', 'full-backup'],
      ['infra', 'P1D', 'full-backup'],
      ['database', 'PT1H', 'full-backup'],
    ]);
    expect(plan.pointEvery).toBe('PT1H'); // the database's frequency: a recovery point every hour
    expect(plan.full.cron).toBe('0 * * * *');
    expect(renderCron(plan, ENV)).not.toMatch(/does not exist/);
    expect(
      renderSystemd(plan, ENV)
        .map((u) => u.content)
        .join(''),
    ).not.toMatch(/does not exist/);
    expect(renderCron(plan, ENV)).toMatchSnapshot();
    const units = renderSystemd(plan, ENV);
    expect(units.map((u) => u.name)).toEqual([
      'arkalia-dr-realtime-snapshot.service',
      'arkalia-dr-full-backup.service',
      'arkalia-dr-full-backup.timer',
      'arkalia-dr-prune.service',
      'arkalia-dr-encrypted-backup.service',
      'arkalia-dr-remote-sync.service',
      'arkalia-dr-verify-daily.service',
      'arkalia-dr-verify-daily.timer',
      'arkalia-dr-verify-weekly.service',
      'arkalia-dr-verify-weekly.timer',
      'arkalia-dr-verify-monthly.service',
      'arkalia-dr-verify-monthly.timer',
    ]);
    for (const unit of units) expect(unit.content).toMatchSnapshot(unit.name);
    expect(unitsToEnable(plan)).toEqual([
      'arkalia-dr-realtime-snapshot.service',
      'arkalia-dr-full-backup.timer',
      'arkalia-dr-verify-daily.timer',
      'arkalia-dr-verify-weekly.timer',
      'arkalia-dr-verify-monthly.timer',
    ]);
  });

  it('follows a policy override: a weekly full backup at another time, new frequencies, no real-time data set', () => {
    const policy = resolvePolicy(
      {
        schedule: { full: 'P7D' },
        datasets: {
          states: { frequency: 'P1D' },
          logs: { frequency: 'P7D' },
          models: { frequency: 'P1M' },
          configs: { frequency: 'PT7H' },
          database: { frequency: 'PT30S' },
        },
      },
      'override.toml',
    );
    const plan = planSchedule(policy, {
      at: { hour: 22, minute: 30 },
      args: { 'remote-sync': ['--to', 's3://bucket/arkalia'], common: ['--policy', '/etc/arkalia/ark.policy.toml'] },
    });
    const cron = renderCron(plan, { ...ENV, policySource: '/etc/arkalia/ark.policy.toml' });
    expect(plan.jobs.map((j) => j.id)).not.toContain('realtime-snapshot'); // nothing is real time any more
    expect(cron).not.toContain('realtime-snapshot.mts');
    // PT7H has no exact cron form: points every 6 h, the longest exact interval not longer.
    expect(plan.pointEvery).toBe('PT6H');
    expect(cron).toMatch(
      /^30 4,10,16,22 \* \* \* arkalia \{ \/usr\/bin\/node .*ark\.mjs full-backup --point --no-prune --policy \/etc\/arkalia\/ark\.policy\.toml -q; s=\$\?; .*\} && \{ .*ark\.mjs prune --policy \S+ -q; .*ark\.mjs encrypted-backup --policy \S+ -q && .*ark\.mjs remote-sync --to s3:\/\/bucket\/arkalia --policy \S+ -q; \}$/m,
    );
    expect(cron).toContain(
      '# every 6 h at 04:30, 10:30, 16:30 and 22:30: full-backup, then prune, then encrypted-backup, then remote-sync',
    );
    expect(cron).toMatch(
      /^#   logs +P7D +full-backup: in the logs archive of every recovery point \(every 6 h at 04:30, 10:30, 16:30 and 22:30\): archived again when P7D has elapsed since its capture and its files changed, else hard-linked$/m,
    );
    expect(cron).toMatch(/^#   models +P1M +full-backup: /m);
    expect(cron).toMatch(/^#   states +P1D +full-backup: /m);
    expect(cron).toMatch(/^#   configs +PT7H +full-backup: /m);
    expect(cron).toMatch(
      /^#   database +PT30S +NOT honoured: wanted every PT30S, but a recovery point runs at most once a minute/m,
    );
    expect(cron).toMatch(/^30 0 \* \* \* arkalia .*ark\.mjs verify --daily --policy/m); // 22:30 + 2 h wraps to 00:30
    const timer = renderSystemd(plan, ENV).find((u) => u.name === 'arkalia-dr-full-backup.timer')!;
    expect(timer.content).toContain('OnCalendar=*-*-* 04,10,16,22:30:00\n');
  });

  it('refuses a full backup more often than daily (one backup per date) or at an interval with no exact form (exit 2)', () => {
    expect(() => planSchedule(resolvePolicy({ schedule: { full: 'PT12H' } }, 'x'), { at: AT })).toThrow(
      expect.objectContaining({
        exitCode: 2,
        message: expect.stringMatching(
          /schedule\.full = PT12H: full-backup writes one backup per date .* use P1D, P7D or P1M/,
        ),
      }),
    );
    expect(() => planSchedule(resolvePolicy({ schedule: { full: 'P2D' } }, 'x'), { at: AT })).toThrow(
      expect.objectContaining({
        exitCode: 2,
        message: expect.stringMatching(/schedule\.full = P2D: every 2 days cannot be scheduled exactly/),
      }),
    );
  });
});

describe('quoting in the generated files', () => {
  it('cron: shell-quotes odd paths and escapes % (cron would cut the command there)', () => {
    expect(cronQuote('/srv/arkalia')).toBe('/srv/arkalia');
    expect(cronQuote('/srv/a b')).toBe("'/srv/a b'");
    expect(cronQuote("/srv/it's")).toBe(`'/srv/it'\\''s'`);
    expect(cronQuote('/srv/100%')).toBe('/srv/100\\%');
    expect(cronQuote('/srv/$HOME x')).toBe("'/srv/$HOME x'");
    const cron = renderCron(planSchedule(resolvePolicy({}, 'x'), { at: AT }), {
      ...ENV,
      ark: '/opt/ark dr%/bin/ark.mjs',
    });
    expect(cron).toContain("'/opt/ark dr\\%/bin/ark.mjs' full-backup --point --no-prune");
    const withSecrets = renderCron(planSchedule(resolvePolicy({}, 'x'), { at: AT }), {
      ...ENV,
      secretsFile: '/etc/arkalia-dr/secrets',
    });
    expect(withSecrets).toContain('/usr/bin/node --env-file=/etc/arkalia-dr/secrets /opt/arkalia-dr/bin/ark.mjs ');
  });

  it('systemd: quotes words with spaces, doubles % (specifiers) and, in ExecStart=, $ (variables)', () => {
    expect(systemdQuote('/srv/a b%c')).toBe('"/srv/a b%%c"');
    expect(systemdQuote('say "hi"\\')).toBe('"say \\"hi\\"\\\\"');
    const units = renderSystemd(planSchedule(resolvePolicy({}, 'x'), { at: AT }), {
      ...ENV,
      root: '/srv/a b%c',
      ark: '/opt/$ark/bin/ark.mjs',
      secretsFile: '/etc/arkalia-dr/env',
    });
    const prune = units.find((u) => u.name === 'arkalia-dr-prune.service')!.content;
    expect(prune).toContain('Environment="ARK_ROOT=/srv/a b%%c"\n');
    expect(prune).toContain('EnvironmentFile=/etc/arkalia-dr/env\n'); // read by systemd as root, not by the job
    expect(prune).toContain('ExecStart=/usr/bin/node "/opt/$$ark/bin/ark.mjs" prune\n');
  });

  it("the chain: a failed point stops it; prune's failure does not hold back the offsite copy; a failed encryption stops the sync (cron's shell line, run)", async () => {
    const plan = planSchedule(resolvePolicy({}, 'built-in'), { at: AT });
    const head = plan.jobs.find((j) => j.id === 'full-backup')!;
    expect(chainOf(plan, head).map((j) => j.id)).toEqual(['full-backup', 'prune', 'encrypted-backup', 'remote-sync']);
    const dir = await tempDir('ark-chain-');
    const ran = async (exits: Record<string, number>): Promise<string[]> => {
      const log = join(dir, 'log');
      await writeFile(log, '');
      const line = shellChain(plan, head, (job) => `(echo ${job.id} >> ${log}; exit ${exits[job.id] ?? 0})`);
      await run('sh', ['-c', `${line}; true`]);
      return (await readFile(log, 'utf8')).trim().split('\n').filter(Boolean);
    };
    const all = ['full-backup', 'prune', 'encrypted-backup', 'remote-sync'];
    expect(await ran({})).toEqual(all);
    expect(await ran({ 'full-backup': 3 })).toEqual(all); // published, invalid states named: goes on
    expect(await ran({ 'full-backup': 1 })).toEqual(['full-backup']);
    expect(await ran({ 'full-backup': 4 })).toEqual(['full-backup']); // locked: nothing was done
    expect(await ran({ prune: 3 })).toEqual(all);
    expect(await ran({ 'encrypted-backup': 1 })).toEqual(['full-backup', 'prune', 'encrypted-backup']);
    // The cron file's line is this chain, with the real commands.
    expect(renderCron(plan, ENV)).toMatch(
      /^0 \* \* \* \* arkalia \{ \S+ .*ark\.mjs full-backup --point --no-prune -q; s=\$\?; \[ \$s -eq 0 \] \|\| \[ \$s -eq 3 \]; \} && \{ \S+ \S+ark\.mjs prune -q; \S+ \S+ark\.mjs encrypted-backup -q && \S+ \S+ark\.mjs remote-sync -q; \}$/m,
    );
  });

  it('systemd: the same chain by OnSuccess=, every service sandboxed to what it writes; systemd-analyze verify finds nothing to say', async () => {
    const plan = planSchedule(resolvePolicy({}, 'built-in'), {
      at: AT,
      args: { 'remote-sync': ['--to', '/mnt/offsite'] },
    });
    const env: ScheduleEnv = {
      ...ENV,
      node: process.execPath,
      ark: join(REPO_ROOT, 'bin/ark.mjs'),
      user: 'root',
    };
    const units = renderSystemd(plan, env);
    const unit = (name: string) => units.find((u) => u.name === `arkalia-dr-${name}.service`)!.content;
    expect(unit('full-backup')).toMatch(/^OnSuccess=arkalia-dr-prune\.service arkalia-dr-encrypted-backup\.service$/m);
    expect(unit('full-backup')).toMatch(/^SuccessExitStatus=3$/m);
    expect(unit('full-backup')).not.toMatch(/^Wants=/m);
    expect(unit('prune')).toMatch(/^After=arkalia-dr-full-backup\.service$/m);
    expect(unit('encrypted-backup')).toMatch(/^After=arkalia-dr-full-backup\.service arkalia-dr-prune\.service$/m);
    expect(unit('encrypted-backup')).toMatch(/^OnSuccess=arkalia-dr-remote-sync\.service$/m);
    expect(unit('prune')).not.toMatch(/^OnSuccess=/m);
    for (const u of units.filter((x) => x.name.endsWith('.service'))) {
      expect(u.content, u.name).toMatch(/^ProtectSystem=strict$/m);
      expect(u.content, u.name).toMatch(/^PrivateTmp=true$/m);
      expect(u.content, u.name).toMatch(/^NoNewPrivileges=true$/m);
      expect(u.content, u.name).toMatch(
        u.name.includes('remote-sync')
          ? /^ReadWritePaths=-\/backup -\/var\/lib\/prometheus\/node-exporter -\/mnt\/offsite$/m
          : /^ReadWritePaths=-\/backup -\/var\/lib\/prometheus\/node-exporter$/m,
      );
    }
    const dir = await tempDir('ark-units-');
    for (const u of units) await writeFile(join(dir, u.name), u.content);
    const verified = await run('systemd-analyze', ['verify', '--man=no', ...units.map((u) => join(dir, u.name))]);
    expect(`${verified.stdout}${verified.stderr}`).toBe('');
    // And it would say something: a unit with an unknown key and a bad value.
    await writeFile(join(dir, 'arkalia-dr-bad.service'), `${unit('prune')}Nicee=1\nProtectSystem=bogus\n`);
    const bad = await run('systemd-analyze', ['verify', '--man=no', join(dir, 'arkalia-dr-bad.service')]);
    expect(bad.stderr).toMatch(/Unknown key 'Nicee'/);
  });

  it('refuses values that would break a file: line breaks, relative paths, a user that is not a user name', () => {
    const plan = planSchedule(resolvePolicy({}, 'x'), { at: AT });
    expect(() => renderCron(plan, { ...ENV, root: '/srv/a\n* * * * * root rm -rf /' })).toThrow(
      /root must not contain a line break/,
    );
    expect(() => renderSystemd(plan, { ...ENV, backupDir: 'backup' })).toThrow(/backupDir must be an absolute path/);
    expect(() => renderCron(plan, { ...ENV, user: 'root cat' })).toThrow(/--user must be a user name/);
  });
});
