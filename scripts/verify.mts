#!/usr/bin/env -S npx tsx
// The runbook's "Checklist Maintenance Backup" (quotidienne / hebdomadaire / mensuelle) as
// commands: verify.mts --daily | --weekly | --monthly (any combination). Checks: lib/verify.
import { EXIT, UsageError } from '../lib/errors.ts';
import { MetricsUpdate } from '../lib/metrics/index.ts';
import { COMMON_HELP, policyLocation } from './cli/parse-options.ts';
import { runScript } from './cli/run-script.ts';
import { METRICS_HELP, METRICS_OPTION, runMetrics } from './cli/run-metrics.ts';

const HELP = `Usage: verify.mts (--daily | --weekly | --monthly)... [options]
The runbook's maintenance checklist. One line per check: ✓ ok, ⚠ warning, ✗ failed, – skipped.

--daily    schedule: the newest backup (by its folder date) is at most schedule.full + 1 day old
           sizes: newest backup's total size and archive member counts vs the median of up to
             7 previous ones; more than 50 % change either way is a WARNING, not a failure
           checksums: every checksum of every daily backup (every failing archive is named)
           offsite: with --offsite, the target lists and holds SHA256SUMS
--weekly   test-restore: disaster-recovery test mode into a temporary sandbox (services
             untouched), with the diff against the live tree
             --boot: then booted as its own Compose project (same images, own network, no
             published ports), health-gated and torn down; failed when it does not come up
             (the compose file: the root's, the policy's [compose] file, or --compose FILE)
           prune-dry-run: what prune would delete (nothing is deleted)
           capacity: free space on the backup file system >= 2 × the newest backup
           log-audit: arkalia-dr writes no backup log (stderr, --json, metrics): reported as skipped
--monthly  key-rotation: with --keyring, the current key older than 30 days is a WARNING (rotation due)
           offsite-decrypt: with --offsite and --key, the newest *.gpg is downloaded (checked
             against SHA256SUMS), decrypted and compared with encrypted_manifest.json
           evidence: the newest <reports-dir>/evidence/<run-id>/evidence.json exists, its
             signature verifies and it is younger than 31 days. The full drill suite is NOT run:
             run it with \`npm run drill\`.

Options:
  --offsite TARGET         folder, user@host:/path or s3://bucket/prefix (env ARK_OFFSITE)
  --keyring DIR            backup keyring (monthly key rotation)
  --key FILE               private key that decrypts the offsite copies (monthly)
  --passphrase-file FILE   its passphrase, first line (env ARK_PASSPHRASE)
  --reports-dir DIR        where npm run drill writes evidence/ (default: ./reports)
${METRICS_HELP}
                     verify sets arkalia_backup_last_verified_timestamp when every checksum of
                     every daily backup verifies (--daily); a corrupt archive counts
                     arkalia_backup_failures_total{type="verify",reason="backup_corrupt"}.
${COMMON_HELP}
Exit: 0 every check ok (warnings allowed), 1 a check failed (schedule missed, offsite
unreachable, capacity, evidence), 2 usage (no mode given, bad flag), 3 integrity (every archive
failing its checksum is named).
Node 20: npx tsx scripts/verify.mts ...   Node >= 22.18: zx scripts/verify.mts ...`;

await runScript(
  {
    help: HELP,
    options: {
      daily: { type: 'boolean', default: false },
      weekly: { type: 'boolean', default: false },
      monthly: { type: 'boolean', default: false },
      offsite: { type: 'string' },
      keyring: { type: 'string' },
      key: { type: 'string' },
      'passphrase-file': { type: 'string' },
      'reports-dir': { type: 'string' },
      boot: { type: 'boolean', default: false },
      compose: { type: 'string' },
      ...METRICS_OPTION,
    },
    scriptUrl: import.meta.url,
  },
  async (ctx, { values, common }) => {
    const modes = (['daily', 'weekly', 'monthly'] as const).filter((m) => values[m]);
    if (modes.length === 0) throw new UsageError('give at least one of --daily, --weekly, --monthly (see --help)');
    // type is only used by guard(), which verify does not call: its metrics are recorded below.
    const metrics = runMetrics(ctx, { flag: values['metrics-file'], type: 'prune' });
    const [{ resolve }, { loadPolicy }, { runChecklist, checklistExitCode }, { resolvePassphrase }] = await Promise.all(
      [
        import('node:path'),
        import('../lib/policy/index.ts'),
        import('../lib/pipeline/verify.ts'),
        import('../lib/crypto/index.ts'),
      ],
    );
    if (values.boot === true && !modes.includes('weekly'))
      throw new UsageError('--boot boots the weekly test restore: give --weekly too (see --help)');
    const loaded = await loadPolicy(policyLocation(common));
    const { policy, source } = loaded;
    const boot = values.boot === true ? await bootCompose(loaded, common.root, values.compose) : undefined;
    const offsite = values.offsite || process.env.ARK_OFFSITE || undefined;
    const passphrase = values.key
      ? await resolvePassphrase({
          file: values['passphrase-file'],
          envValue: process.env.ARK_PASSPHRASE,
          envName: 'ARK_PASSPHRASE',
          flag: '--passphrase-file',
        })
      : undefined;
    if (passphrase?.warning) ctx.sink({ kind: 'warning', code: 'PASSPHRASE_FILE_MODE', message: passphrase.warning });
    ctx.say(`🔎 verify ${modes.join(' + ')}: ${common.backupDir} (root ${common.root}; policy: ${source})`);
    const results = await runChecklist(modes, {
      root: common.root,
      backupDir: common.backupDir,
      policy,
      sink: ctx.sink,
      ...(offsite ? { offsite } : {}),
      ...(values.keyring ? { keyring: resolve(values.keyring) } : {}),
      ...(values.key ? { key: resolve(values.key) } : {}),
      passphrases: passphrase ? [passphrase.value] : [],
      reportsDir: resolve(values['reports-dir'] ?? 'reports'),
      ...(boot ? { boot } : {}),
    });
    const checksums = results.find((r) => r.check === 'checksums');
    if (checksums) {
      await metrics.record((facts) => {
        if (checksums.status === 'integrity')
          return new MetricsUpdate().inc('failures', { type: 'verify', reason: 'backup_corrupt' });
        const verified = (checksums.data?.verified as number | undefined) ?? 0;
        return checksums.status === 'ok' && verified > 0
          ? new MetricsUpdate().set('lastVerified', {}, facts.at.getTime() / 1000)
          : new MetricsUpdate();
      });
    }
    const exitCode = checklistExitCode(results);
    const count = (s: string) => results.filter((r) => r.status === s).length;
    const tally = `${count('ok')} ok, ${count('warning')} warning(s), ${count('failed')} failed, ${count('integrity')} integrity, ${count('skipped')} skipped`;
    const summary = exitCode === EXIT.ok ? `✅ checklist passed: ${tally}` : `✗ checklist FAILED: ${tally}`;
    const modeHints = modes.includes('monthly') ? `\n  full recovery drill (not run by verify): npm run drill` : '';
    return {
      exitCode,
      summary: `${summary}${modeHints}`,
      policy: source,
      result: { modes, backup_dir: common.backupDir, root: common.root, checks: results },
    };
  },
);

/** --boot: the compose file the live stack runs from (exit 2 when there is none). */
async function bootCompose(
  loaded: Awaited<ReturnType<typeof import('../lib/policy/index.ts').loadPolicy>>,
  root: string,
  composeFile: string | undefined,
): Promise<{ compose: import('../lib/compose/index.ts').ComposeProject; timeoutMs: number }> {
  const { withCompose } = await import('../lib/policy/index.ts');
  const { resolve } = await import('node:path');
  const { compose } = await withCompose(loaded, {
    root,
    ...(composeFile ? { composeFile: resolve(composeFile) } : {}),
  });
  if (!compose)
    throw new UsageError(
      '--boot needs the compose file the stack runs from: there is none in the root (give --compose FILE)',
    );
  return { compose, timeoutMs: 180_000 };
}
