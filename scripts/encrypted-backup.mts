#!/usr/bin/env -S npx tsx
// Encrypted offsite copies (the runbook's ark_encrypted_backup.sh): the archives the policy
// marks offsite, verified, encrypted with OpenPGP to <backup-dir>/encrypted/<archive>.gpg.
import { delimiter, resolve } from 'node:path';
import {
  currentRecipient,
  readPrivateKeys,
  readRecipientKey,
  readSigningKey,
  resolvePassphrase,
  type RecipientKey,
  type UnlockedKey,
} from '../lib/crypto/index.ts';
import { EXIT, UsageError } from '../lib/errors.ts';
import { LOCK_TIMEOUT_HELP, parseLockTimeout } from '../lib/lock/index.ts';
import { isBackupStamp } from '../lib/layout/index.ts';
import { encryptedBackupMetrics } from '../lib/metrics/index.ts';
import { encryptBackup } from '../lib/pipeline/encrypted-backup.ts';
import { loadPolicy } from '../lib/policy/index.ts';
import { COMMON_HELP, policyLocation } from './cli/parse-options.ts';
import { METRICS_HELP, METRICS_OPTION, runMetrics } from './cli/run-metrics.ts';
import { runScript } from './cli/run-script.ts';

const HELP = `Usage: encrypted-backup.mts [options]

Encrypts the archives of a daily backup that the policy marks offsite (default: the states
archive, which holds .env) to <backup-dir>/encrypted/<archive>.gpg, which \`gpg --decrypt\`
reads (OpenPGP, AES-256, uncompressed). Each archive is first verified against the backup's
checksum file (a corrupt archive is never encrypted), encrypted streaming, verified, and
only then renamed into place. encrypted/SHA256SUMS lists the .gpg files (\`sha256sum -c\`
verifies offsite copies without any key); encrypted/encrypted_manifest.json records what
each was made from. An archive already encrypted, unchanged, to the same recipients is left
alone, so running it again is safe.

Verification: with a recipient's private key (--verify-key, or --sign-key when that key is
also a recipient) the new file is decrypted in full and its sha256 compared with the
checksum file ("full"). Without one, the encrypted data is decrypted with the session key
held in memory and compared the same way, and each recipient's key packet is checked
structurally ("session-key"): a full decrypt-verify needs a private key.

Options:
  --recipient FILE          public key to encrypt to (armored or binary; repeatable; each
                            recipient alone can decrypt). At least one recipient is required.
  --keyring DIR             also encrypt to the keyring's current key (see keys.mts --help)
                            Without either flag: env ARK_RECIPIENTS (files separated by
                            "${delimiter}") and env ARK_KEYRING.
  --sign-key FILE           sign with this private key (passphrase from --passphrase-file
                            or env ARK_PASSPHRASE)
  --passphrase-file FILE    passphrase of --sign-key (and of --verify-key); first line
  --verify-key FILE         a recipient's private key, for a full decrypt-verify
  --verify-passphrase-file FILE
                            passphrase of --verify-key if it differs (env ARK_VERIFY_PASSPHRASE)
  --date YYYYMMDD[_HHMM]    which backup or recovery point (default: the newest)
  --dry-run                 verify the archives and say what would be encrypted; write nothing
${LOCK_TIMEOUT_HELP}
${METRICS_HELP}
${COMMON_HELP}

Secrets (private keys, passphrases) are read from files or the environment, never from the
command line. Copies made by hand with gpg should use \`--compress-algo none\`: compressed
copies decrypt slowly here and their memory grows with the file.

Node 20: npx tsx scripts/encrypted-backup.mts ...   Node >= 22.18: zx scripts/encrypted-backup.mts ...`;

await runScript(
  {
    help: HELP,
    options: {
      recipient: { type: 'string', multiple: true },
      keyring: { type: 'string' },
      'sign-key': { type: 'string' },
      'passphrase-file': { type: 'string' },
      'verify-key': { type: 'string' },
      'verify-passphrase-file': { type: 'string' },
      date: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'lock-timeout': { type: 'string' },
      ...METRICS_OPTION,
    },
    scriptUrl: import.meta.url,
  },
  async (ctx, { values, common }) => {
    const env = process.env;
    const date = values.date;
    if (date !== undefined && !isBackupStamp(date))
      throw new UsageError(
        `--date must be a calendar date as YYYYMMDD, or a recovery point as YYYYMMDD_HHMM, got ${JSON.stringify(date)}`,
      );
    const lockTimeoutMs = parseLockTimeout(values['lock-timeout']);

    const metrics = runMetrics(ctx, { flag: values['metrics-file'], type: 'encrypted', dryRun: values['dry-run'] });

    // Keys: recipients (public), then the optional signing and verification keys (private).
    // Flags win; the environment is used only when no --recipient / --keyring flag is given.
    // A missing or unreadable key fails a scheduled run: it is counted like any other failure.
    const { unique, signingKey, verifyKeys } = await metrics.guard(async () => {
      const fromFlags = values.recipient !== undefined || values.keyring !== undefined;
      const recipientFiles = fromFlags
        ? (values.recipient ?? [])
        : (env.ARK_RECIPIENTS ?? '').split(delimiter).filter((f) => f !== '');
      const keyring = fromFlags ? values.keyring : env.ARK_KEYRING || undefined;
      if (recipientFiles.length === 0 && keyring === undefined) {
        throw new UsageError(
          'no recipient: give --recipient FILE (a public key; repeatable), --keyring DIR, or set ARK_RECIPIENTS',
        );
      }
      const recipients: RecipientKey[] = [];
      for (const file of recipientFiles) recipients.push(await readRecipientKey(resolve(file)));
      if (keyring !== undefined) recipients.push(await currentRecipient(resolve(keyring)));
      const unique = [...new Map(recipients.map((r) => [r.info.fingerprint, r])).values()];

      const passphrase = await resolvePassphrase({
        file: values['passphrase-file'],
        envValue: env.ARK_PASSPHRASE,
        envName: 'ARK_PASSPHRASE',
        flag: '--passphrase-file',
      });
      const verifyPassphrase = await resolvePassphrase({
        file: values['verify-passphrase-file'],
        envValue: env.ARK_VERIFY_PASSPHRASE,
        envName: 'ARK_VERIFY_PASSPHRASE',
        flag: '--verify-passphrase-file',
      });
      for (const p of [passphrase, verifyPassphrase])
        if (p?.warning) ctx.sink({ kind: 'warning', code: 'PASSPHRASE_FILE_MODE', message: p.warning });
      const passphrases = [verifyPassphrase?.value, passphrase?.value].filter((p): p is string => p !== undefined);
      const signingKey: UnlockedKey | undefined = values['sign-key']
        ? await readSigningKey(resolve(values['sign-key']), { passphrases: passphrase ? [passphrase.value] : [] })
        : undefined;
      const verifyKeys = values['verify-key']
        ? await readPrivateKeys(resolve(values['verify-key']), { passphrases })
        : [];
      return { unique, signingKey, verifyKeys };
    });

    const { policy, source } = await metrics.guard(() => loadPolicy(policyLocation(common)));
    ctx.say(
      `🔐 encrypted backup in ${common.backupDir} (policy: ${source}) to ${unique.map((r) => `${r.info.fingerprint} ${r.info.userIds[0] ?? ''}`.trim()).join(', ')}`,
    );
    const report = await metrics.guard(() =>
      encryptBackup({
        backupDir: common.backupDir,
        policy,
        ...(date ? { date } : {}),
        recipients: unique,
        ...(signingKey ? { signingKey } : {}),
        verifyKeys,
        dryRun: values['dry-run'],
        lockTimeoutMs,
        sink: ctx.sink,
      }),
    );
    await metrics.record((facts) => encryptedBackupMetrics(report, facts));
    const written = report.files.filter((f) => f.action === 'encrypted').length;
    const unchanged = report.files.filter((f) => f.action === 'unchanged').length;
    const linked = report.files.filter((f) => f.action === 'linked').length;
    const summary = report.dryRun
      ? `[dry run] ${report.files.filter((f) => f.action === 'would-encrypt').length} archive(s) would be encrypted, ${unchanged} unchanged; nothing was written`
      : `✅ ${written} archive(s) encrypted, ${unchanged} unchanged${linked ? `, ${linked} linked (already encrypted for another recovery point)` : ''}, in ${report.encryptedDir}` +
        (report.verification === 'session-key'
          ? '\n  note: verified with the session key; a full decrypt-verify needs a recipient private key (--verify-key FILE)'
          : '');
    return { exitCode: EXIT.ok, summary, policy: source, result: { ...report } };
  },
);
