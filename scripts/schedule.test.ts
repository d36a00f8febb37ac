// scripts/schedule.mts as an operator runs it: what it prints, what --install writes (and
// refuses to overwrite), bad input with exit 2; systemd units checked by systemd-analyze
// verify where it exists.
import { execFile } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../lib/testing.ts';
import { envelopeOf, runScript } from './testing.ts';

const run = promisify(execFile);

const schedule = (args: string[], env?: Record<string, string>) => runScript('schedule', args, env);

const common = ['--root', '/srv/arkalia-luna-pro', '--backup-dir', '/backup', '--user', 'root'];
const cmd = (script: string) =>
  `${process.execPath} ${join(REPO_ROOT, 'bin', 'ark.mjs')} ${script.replace(/\.mts$/, '')}`;

describe('schedule.mts', { timeout: 60_000 }, () => {
  it('prints the cron file for the built-in policy: real paths to node and ark; the environment; the chain', async () => {
    const outcome = await schedule([...common, '--metrics-file', '/var/lib/node-exporter/ark.prom']);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect(outcome.stderr).toBe('');
    const text = outcome.stdout;
    expect(text).toMatch(/^ARK_ROOT=\/srv\/arkalia-luna-pro$/m);
    expect(text).toMatch(/^ARK_BACKUP_DIR=\/backup$/m);
    expect(text).toMatch(/^ARK_METRICS_FILE=\/var\/lib\/node-exporter\/ark\.prom$/m);
    expect(text).toContain(`* * * * * root ${cmd('realtime-snapshot.mts')} -q\n`);
    // A point that failed stops the chain; exit 3 (invalid states archived) published it.
    expect(text).toContain(
      `0 * * * * root { ${cmd('full-backup.mts')} --point --no-prune -q; s=$?; [ $s -eq 0 ] || [ $s -eq 3 ]; } && { ${cmd('prune.mts')} -q; ${cmd('encrypted-backup.mts')} -q && ${cmd('remote-sync.mts')} -q; }\n`,
    );
    expect(text).toContain(`0 5 * * * root ${cmd('verify.mts')} --daily -q\n`);
    expect(text).not.toMatch(/does not exist/);
    expect(text).toMatch(
      /^#   database +PT1H +full-backup: in the states archive of every recovery point \(hourly at minute 0\)/m,
    );
    expect(text).not.toMatch(/NOT honoured/); // the runbook's whole table, at its own frequencies
    expect(text).not.toMatch(/^[^#].*flock/m); // the scripts lock themselves
  });

  it('--format systemd: units systemd-analyze accepts (when installed); --at moves the chain and the checklist', async () => {
    const dir = await tempDir('ark-units-');
    const outcome = await schedule([
      ...common,
      '--format',
      'systemd',
      '--at',
      '01:30',
      '--install',
      dir,
      '--to',
      's3://bucket/arkalia',
      '--secrets-file',
      '/etc/arkalia-dr/env',
    ]);
    expect(outcome.code, outcome.stderr).toBe(0);
    const names = (await readdir(dir)).sort();
    expect(names).toHaveLength(12);
    const timer = await readFile(join(dir, 'arkalia-dr-full-backup.timer'), 'utf8');
    expect(timer).toMatch(/^OnCalendar=\*-\*-\* \*:30:00$/m); // hourly points, at the minute of --at
    expect(timer).toMatch(/^Persistent=true$/m);
    expect(timer).toMatch(/^RandomizedDelaySec=5min$/m);
    const sync = await readFile(join(dir, 'arkalia-dr-remote-sync.service'), 'utf8');
    expect(sync).toContain(`ExecStart=${cmd('remote-sync.mts')} --to s3://bucket/arkalia\n`);
    expect(sync).toMatch(/^Type=oneshot$/m);
    expect(sync).toMatch(/^EnvironmentFile=\/etc\/arkalia-dr\/env$/m);
    expect(await readFile(join(dir, 'arkalia-dr-realtime-snapshot.service'), 'utf8')).toMatch(/^Restart=on-failure$/m);
    expect(await readFile(join(dir, 'arkalia-dr-verify-daily.timer'), 'utf8')).toMatch(
      /^OnCalendar=\*-\*-\* 03:30:00$/m,
    );
    expect(outcome.stderr).toContain(
      `systemctl enable --now arkalia-dr-realtime-snapshot.service arkalia-dr-full-backup.timer arkalia-dr-verify-daily.timer arkalia-dr-verify-weekly.timer arkalia-dr-verify-monthly.timer`,
    );
    expect(outcome.stderr).toMatch(/systemctl daemon-reload/);
    const analyze = await run('systemd-analyze', ['--version']).then(
      () => true,
      () => false,
    );
    if (analyze) {
      const verified = await run('systemd-analyze', ['verify', ...names.map((n) => join(dir, n))]).then(
        (r) => ({ code: 0, stderr: r.stderr }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(verified).toEqual({ code: 0, stderr: '' });
    }
  });

  it('--install writes atomically, says what to do next, refuses to overwrite a different file without --force (changing nothing), --force replaces', async () => {
    const dir = await tempDir('ark-crond-');
    const first = await schedule([...common, '--install', dir]);
    expect(first.code, first.stderr).toBe(0);
    expect(await readdir(dir)).toEqual(['arkalia-dr']); // cron.d ignores names with dots
    const installed = await readFile(join(dir, 'arkalia-dr'), 'utf8');
    expect((await stat(join(dir, 'arkalia-dr'))).mode & 0o022).toBe(0);
    expect(first.stderr).toMatch(/✓ created +.*\/arkalia-dr\n/);
    expect(first.stderr).toMatch(
      /✅ installed \(cron\) in .*\. Next:\n {2}cron reads .*\/arkalia-dr by itself: it must belong to root, mode 0644/,
    );

    const same = await schedule([...common, '--install', dir, '--json']);
    expect(same.code, same.stderr).toBe(0);
    expect(envelopeOf(same, 'schedule')).toMatchObject({
      ok: true,
      result: { files: [{ name: 'arkalia-dr', action: 'unchanged' }] },
    });

    await writeFile(join(dir, 'arkalia-dr'), `${installed}# a local edit\n`);
    const refused = await schedule([...common, '--at', '04:00', '--install', dir]);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(
      /✗ .*\/arkalia-dr already exists with other content: nothing was written\. .* again with --force/,
    );
    expect(await readFile(join(dir, 'arkalia-dr'), 'utf8')).toBe(`${installed}# a local edit\n`);
    expect(await readdir(dir)).toEqual(['arkalia-dr']);

    const forced = await schedule([...common, '--at', '04:00', '--install', dir, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/✓ replaced +.*\/arkalia-dr\n/);
    expect(await readFile(join(dir, 'arkalia-dr'), 'utf8')).toMatch(/^0 6 \* \* \* root .*ark\.mjs verify --daily/m);
  });

  it('follows the policy (--policy FILE, passed on to every job): a weekly full backup, new frequencies', async () => {
    const dir = await tempDir('ark-sched-policy-');
    const policy = join(dir, 'ark.policy.toml');
    await writeFile(policy, '[schedule]\nfull = "P7D"\n\n[datasets.logs]\nfrequency = "P7D"\n');
    const outcome = await schedule([...common, '--policy', policy, '--json']);
    expect(outcome.code, outcome.stderr).toBe(0);
    const envelope = envelopeOf(outcome, 'schedule');
    expect(envelope.policy).toBe(policy);
    const result = envelope.result as { files: { name: string; content: string }[] };
    const cron = result.files[0]!.content;
    // The database (PT1H) still needs a point an hour; the logs are archived again once a week.
    expect(cron).toContain(
      `0 * * * * root { ${cmd('full-backup.mts')} --point --no-prune --policy ${policy} -q; s=$?; [ $s -eq 0 ] || [ $s -eq 3 ]; } && { ${cmd('prune.mts')} --policy ${policy} -q;`,
    );
    expect(cron).toMatch(
      /^#   logs +P7D +full-backup: in the logs archive of every recovery point \(hourly at minute 0\): archived again when P7D has elapsed/m,
    );
    expect(cron).toMatch(/^#   models +P1D +full-backup: /m);
  });

  it('bad input: exit 2, the reason, no stack trace, nothing written', async () => {
    const dir = await tempDir('ark-sched-bad-');
    const write = async (name: string, text: string) => {
      await writeFile(join(dir, name), text);
      return join(dir, name);
    };
    const cases: [string[], RegExp][] = [
      [['--format', 'anacron'], /--format must be cron or systemd, got "anacron"/],
      [['--at', '3am'], /--at must be a time of day as HH:MM/],
      [['--force'], /--force only applies with --install DIR/],
      [['--user', 'root; rm -rf /'], /--user must be a user name/],
      [['--root', '/srv/a\nb'], /root must not contain a line break/],
      [['--bogus'], /Unknown option '--bogus'/],
      [
        ['--policy', await write('twice.toml', '[schedule]\nfull = "PT12H"\n')],
        /schedule\.full = PT12H: full-backup writes one backup per date/,
      ],
      [
        ['--policy', await write('seven.toml', '[schedule]\nfull = "P2D"\n')],
        /schedule\.full = P2D: every 2 days cannot be scheduled exactly/,
      ],
      [
        ['--policy', await write('typo.toml', '[schedule]\nfull = "daily"\n')],
        /schedule\.full: expected an ISO-8601 duration/,
      ],
      [['--install', await write('a-file', '')], /--install .*a-file is not a folder/],
      [['--install', join(dir, 'missing')], /--install .*missing is not a folder/],
    ];
    const outcomes = await Promise.all(cases.map(([args]) => schedule([...common, ...args])));
    outcomes.forEach((outcome, i) => {
      const [args, message] = cases[i]!;
      expect(outcome.code, `${args.join(' ')}\n${outcome.stderr}`).toBe(2);
      expect(outcome.stderr, args.join(' ')).toMatch(message);
      expect(outcome.stderr).not.toMatch(/^\s+at /m);
      expect(outcome.stdout).toBe('');
    });
    expect((await readdir(dir)).sort()).toEqual(['a-file', 'seven.toml', 'twice.toml', 'typo.toml']);
  });
});
