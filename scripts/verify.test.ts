// scripts/verify.mts as an operator runs it: exit codes, the archive named, the metrics file.
// (The checks themselves are tested in-process in lib/pipeline/verify.test.ts.)
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daysAgo, makeBackup } from '../lib/retention/testing.ts';
import { tempDir } from '../lib/testing.ts';
import { envelopeOf, runScript } from './testing.ts';

const verify = (args: string[]) => runScript('verify', args);

const metricsText = (file: string) => readFile(file, 'utf8').catch(() => '');

describe('verify.mts', () => {
  it('--daily: a flipped byte exits 3 naming the archive and does not set last-verified; all good exits 0 and sets it', async () => {
    const root = await tempDir('ark-root-');
    const backupDir = await tempDir('ark-bk-');
    const metrics = join(await tempDir('ark-metrics-'), 'arkalia.prom');
    await makeBackup(backupDir, daysAgo(1));
    await makeBackup(backupDir, daysAgo(2));
    await makeBackup(backupDir, daysAgo(0), 'mismatch');
    const bad = await verify(['--daily', '--root', root, '--backup-dir', backupDir, '--metrics-file', metrics]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain(
      `✗ daily checksums: 1 archive(s) fail their checksum: arkalia_${daysAgo(0)}/arkalia_logs_${daysAgo(0)}.tar.gz`,
    );
    expect(await metricsText(metrics)).not.toMatch(/^arkalia_backup_last_verified_timestamp /m);

    const good = join(await tempDir('ark-bk-'));
    await makeBackup(good, daysAgo(0));
    await makeBackup(good, daysAgo(1));
    // Daily backups only: a policy that asks for nothing more often (the built-in one wants hourly points).
    const daily = join(good, 'daily.policy.toml');
    await writeFile(daily, ['configs', 'logs', 'database'].map((d) => `[datasets.${d}]\nfrequency = "P1D"\n`).join(''));
    const ok = await verify([
      '--daily',
      '--root',
      root,
      '--backup-dir',
      good,
      '--policy',
      daily,
      '--metrics-file',
      metrics,
      '--json',
    ]);
    expect(ok.code).toBe(0);
    const envelope = envelopeOf(ok, 'verify');
    expect(envelope.ok).toBe(true);
    const json = envelope.result as { checks: { check: string; status: string; detail: string }[] };
    expect(json.checks.map((c) => [c.check, c.status])).toEqual([
      ['schedule', 'ok'],
      ['frequencies', 'ok'],
      ['media', 'warning'], // the test's root and backups share /tmp, and no offsite is given
      ['sizes', 'ok'],
      ['checksums', 'ok'],
      ['offsite', 'skipped'],
    ]);
    expect(await metricsText(metrics)).toMatch(/^arkalia_backup_last_verified_timestamp \d/m);
  });

  it('no mode is a usage error (exit 2)', async () => {
    const outcome = await verify(['--backup-dir', await tempDir('ark-bk-')]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain('give at least one of --daily, --weekly, --monthly');
    expect(outcome.stderr).not.toMatch(/^\s+at /m);
  });
});
