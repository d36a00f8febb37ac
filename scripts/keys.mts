#!/usr/bin/env -S npx tsx
// Backup encryption keys: generate a key pair, list a keyring, rotate it (the runbook's
// monthly "rotation clés chiffrement GPG"), optionally re-encrypting existing backups.
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  generateKeyPair,
  readKeyring,
  readRecipientKey,
  resolvePassphrase,
  rotateKeyring,
  writeKeyPair,
  DEFAULT_USER_ID,
  type RecipientKey,
} from '../lib/crypto/index.ts';
import { rotateKeys } from '../lib/pipeline/rotate-keys.ts';
import { EXIT, UsageError } from '../lib/errors.ts';
import { LOCK_TIMEOUT_HELP, parseLockTimeout } from '../lib/lock/index.ts';
import { COMMON_HELP } from './cli/parse-options.ts';
import { runScript, type ScriptContext, type ScriptOutcome } from './cli/run-script.ts';

const HELP = `Usage: keys.mts <command> [options]

Commands:
  generate --keyring DIR [--user-id UID] [--passphrase-file FILE]
      A new keyring in DIR (missing or empty) holding one v4 ed25519 + cv25519 key pair
      (what GnuPG 2.2 calls future-default), current: what encrypted-backup --keyring DIR
      and keys rotate --keyring DIR take.
  generate --out-dir DIR [--name NAME] [--user-id UID] [--passphrase-file FILE]
      The same key pair as two plain files, not a keyring: DIR/<NAME>.pub.asc (0644; give
      it to encrypted-backup --recipient) and DIR/<NAME>.sec.asc (0600; keep it offline: it
      decrypts the backups). NAME defaults to arkalia-backup. Never overwrites a key file.
  list --keyring DIR
      Fingerprint, creation date, user id, algorithm, current/retired, private key present.
  rotate --keyring DIR [--user-id UID] [--passphrase-file FILE] [--dry-run]
         [--reencrypt [--backup-dir DIR] [--old-passphrase-file FILE] [--recipient FILE]...]
      Generates a new key pair in the keyring and makes it current: encrypted-backup
      --keyring DIR encrypts to it from then on. Old keys are kept (retired) and still
      decrypt older backups. On a missing or empty folder, creates the keyring.
      --reencrypt also re-encrypts every <backup-dir>/encrypted/*.gpg to the new key (plus
      any --recipient, e.g. an escrow key), one file at a time: decrypted with the old key
      and encrypted to the new one in one stream (no plaintext on disk), written beside the
      old file, decrypted again with the new key and compared, and only then renamed over
      the old file. A file that fails keeps its old copy (exit 1, or 3 if it is damaged).
      The old keys are unlocked first: a wrong old passphrase stops before any change.
      --no-new-key    with --reencrypt: re-encrypt to the current key without generating
                      one, e.g. to finish an interrupted --reencrypt (files already on the
                      current key are left alone)

Keyring layout (DIR, mode 0700):
  current               the fingerprint of the current key (one line)
  <FPR>.pub.asc         public keys (0644)
  <FPR>.sec.asc         private keys (0600); may be absent on a host that only encrypts
Every key other than the current one is retired; delete a retired key only once no backup
you keep is encrypted to it. \`gpg --import <FPR>.sec.asc\` works with GnuPG 2.2 (it warns,
harmlessly, that the key lists SHA-3 among its hash preferences).
Secrets (passphrases) come from files or the environment, never from the command line.

Options:
  --keyring DIR           the keyring folder (env ARK_KEYRING)
  --user-id UID           "Name <email>" (default: "${DEFAULT_USER_ID}")
  --passphrase-file FILE  protects the new private key (first line; env ARK_PASSPHRASE);
                          without one the private key is stored unprotected (a warning says so)
  --old-passphrase-file FILE
                          passphrase of the retired keys, when it differs (env ARK_OLD_PASSPHRASE)
  --dry-run               say what would be done; change nothing
${LOCK_TIMEOUT_HELP}
${COMMON_HELP}

Node 20: npx tsx scripts/keys.mts ...   Node >= 22.18: zx scripts/keys.mts ...`;

const COMMANDS = ['generate', 'list', 'rotate'] as const;

await runScript(
  {
    help: HELP,
    options: {
      'out-dir': { type: 'string' },
      name: { type: 'string' },
      'user-id': { type: 'string' },
      'passphrase-file': { type: 'string' },
      'old-passphrase-file': { type: 'string' },
      keyring: { type: 'string' },
      reencrypt: { type: 'boolean', default: false },
      'no-new-key': { type: 'boolean', default: false },
      recipient: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean', default: false },
      'lock-timeout': { type: 'string' },
    },
    positionals: true,
    scriptUrl: import.meta.url,
  },
  async (ctx, { values, positionals, common }) => {
    const [command, ...extra] = positionals;
    if (command === undefined || !(COMMANDS as readonly string[]).includes(command)) {
      throw new UsageError(
        `expected a command: ${COMMANDS.join(', ')}${command === undefined ? '' : ` (got ${JSON.stringify(command)})`} (see --help)`,
      );
    }
    if (extra.length > 0) throw new UsageError(`unexpected argument(s): ${extra.join(' ')} (see --help)`);
    const env = process.env;
    const passphrase = await resolvePassphrase({
      file: values['passphrase-file'],
      envValue: env.ARK_PASSPHRASE,
      envName: 'ARK_PASSPHRASE',
      flag: '--passphrase-file',
    });
    if (passphrase?.warning) ctx.sink({ kind: 'warning', code: 'PASSPHRASE_FILE_MODE', message: passphrase.warning });

    if (command === 'generate' && values.keyring !== undefined) {
      if (values['out-dir'] !== undefined || values.name !== undefined)
        throw new UsageError(
          'generate takes --keyring DIR (a keyring) or --out-dir DIR [--name NAME] (two key files), not both',
        );
      return generateKeyring(ctx, resolve(values.keyring), values, passphrase?.value);
    }
    if (command === 'generate') {
      const outDir = values['out-dir'];
      if (!outDir)
        throw new UsageError(
          'generate needs --keyring DIR (a keyring for encrypted-backup --keyring) or --out-dir DIR (two key files)',
        );
      const name = values.name ?? 'arkalia-backup';
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name))
        throw new UsageError(`--name must be a plain file name (letters, digits, . _ -), got ${JSON.stringify(name)}`);
      const pair = await generateKeyPair({
        ...(values['user-id'] ? { userId: values['user-id'] } : {}),
        ...(passphrase ? { passphrase: passphrase.value } : {}),
      });
      const files = await writeKeyPair(resolve(outDir), name, pair);
      ctx.sink({ kind: 'key-written', fingerprint: pair.info.fingerprint, file: files.publicFile, secret: false });
      ctx.sink({ kind: 'key-written', fingerprint: pair.info.fingerprint, file: files.secretFile, secret: true });
      if (!passphrase)
        ctx.sink({
          kind: 'warning',
          code: 'KEY_UNPROTECTED',
          path: files.secretFile,
          message: `${files.secretFile} is not passphrase-protected: keep it offline`,
        });
      return {
        exitCode: EXIT.ok,
        summary: `✅ key pair ${pair.info.fingerprint} (${pair.info.algorithm}, ${pair.info.userIds.join(', ')})`,
        result: { key: pair.info, public_file: files.publicFile, secret_file: files.secretFile },
      };
    }

    const keyringOption = values.keyring ?? (env.ARK_KEYRING || undefined);
    if (!keyringOption) throw new UsageError(`${command} needs --keyring DIR`);
    const keyringDir = resolve(keyringOption);
    if (command === 'list') return list(ctx, keyringDir);
    return rotate(ctx, keyringDir, common.backupDir, values, passphrase?.value);
  },
);

/** `generate --keyring DIR`: a keyring's first key, made current; refused where a keyring already has keys. */
async function generateKeyring(
  ctx: ScriptContext,
  dir: string,
  values: Record<string, unknown>,
  passphrase: string | undefined,
): Promise<ScriptOutcome> {
  const existing = await readKeyring(dir).catch((error: { code?: string }) => {
    if (error.code === 'KEYRING_MISSING') return null;
    throw error;
  });
  if (existing && existing.keys.length > 0)
    throw new UsageError(
      `${dir} is already a keyring (${existing.keys.length} key(s)${existing.current ? `, current ${existing.current}` : ''}): keys rotate --keyring ${dir} makes a new current key`,
    );
  const others = existing ? await readdir(dir) : [];
  if (others.length > 0)
    throw new UsageError(
      `${dir} is not empty and not a keyring (it holds ${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}): give generate --keyring a new or empty folder`,
    );
  const { pair } = await rotateKeyring({
    dir,
    sink: ctx.sink,
    ...(typeof values['user-id'] === 'string' ? { userId: values['user-id'] } : {}),
    ...(passphrase ? { passphrase } : {}),
  });
  if (!passphrase)
    ctx.sink({
      kind: 'warning',
      code: 'KEY_UNPROTECTED',
      path: dir,
      message: `the private key in ${dir} is not passphrase-protected: keep the keyring offline`,
    });
  return {
    exitCode: EXIT.ok,
    summary: `✅ keyring ${dir}: current key ${pair.info.fingerprint} (${pair.info.algorithm}); encrypted-backup --keyring ${dir} encrypts to it`,
    result: { keyring: dir, current: pair.info.fingerprint, key: pair.info },
  };
}

async function list(ctx: ScriptContext, dir: string): Promise<ScriptOutcome> {
  const keyring = await readKeyring(dir);
  if (keyring.keys.length === 0) ctx.say(`(keyring ${dir} holds no key)`);
  for (const key of keyring.keys) {
    const secret = key.secretFile
      ? key.passphraseProtected
        ? 'private key present (passphrase)'
        : 'private key present (no passphrase)'
      : 'no private key';
    ctx.say(
      `${key.status === 'current' ? '* current' : '  retired'}  ${key.fingerprint}  ${key.created.slice(0, 10)}  ${key.algorithm}  ${key.userIds.join(', ')}  [${secret}]  key IDs ${key.keyIds.join(' ')}`,
    );
  }
  return { exitCode: EXIT.ok, result: { keyring: dir, current: keyring.current, keys: keyring.keys } };
}

async function rotate(
  ctx: ScriptContext,
  dir: string,
  backupDir: string,
  values: Record<string, unknown>,
  passphrase: string | undefined,
): Promise<ScriptOutcome> {
  const reencrypt = values.reencrypt === true;
  if (values['no-new-key'] === true && !reencrypt)
    throw new UsageError('--no-new-key only makes sense with --reencrypt');
  const recipientFiles = (values.recipient as string[] | undefined) ?? [];
  if (recipientFiles.length > 0 && !reencrypt) throw new UsageError('--recipient only makes sense with --reencrypt');
  const extraRecipients: RecipientKey[] = [];
  for (const file of recipientFiles) extraRecipients.push(await readRecipientKey(resolve(file)));
  const old = await resolvePassphrase({
    file: values['old-passphrase-file'] as string | undefined,
    envValue: process.env.ARK_OLD_PASSPHRASE,
    envName: 'ARK_OLD_PASSPHRASE',
    flag: '--old-passphrase-file',
  });
  if (old?.warning) ctx.sink({ kind: 'warning', code: 'PASSPHRASE_FILE_MODE', message: old.warning });

  const report = await rotateKeys({
    keyringDir: dir,
    backupDir,
    newKey: values['no-new-key'] !== true,
    reencrypt,
    ...(values['user-id'] ? { userId: values['user-id'] as string } : {}),
    ...(passphrase ? { passphrase } : {}),
    oldPassphrases: old ? [old.value] : [],
    extraRecipients,
    dryRun: values['dry-run'] === true,
    lockTimeoutMs: parseLockTimeout(values['lock-timeout'] as string | undefined),
    sink: ctx.sink,
  });
  const { files, newKey } = report;
  const failed = files.filter((f) => f.action === 'failed');
  const counts = `${files.filter((f) => f.action === 'reencrypted').length} re-encrypted, ${files.filter((f) => f.action === 'unchanged').length} already on the current key, ${failed.length} failed`;
  const summary = report.dryRun
    ? `[dry run] nothing was changed${reencrypt ? `; ${files.filter((f) => f.action === 'would-reencrypt').length} file(s) would be re-encrypted` : ''}`
    : `${failed.length > 0 ? '⚠' : '✅'} ${newKey ? `new current key ${newKey.fingerprint}` : `current key ${report.current}`}${reencrypt ? `; ${counts}` : ''}` +
      (failed.length > 0
        ? `\n${failed.map((f) => `  - ${f.file}: ${f.error?.message}`).join('\n')}\n  once fixed, finish with: keys.mts rotate --keyring ${dir} --reencrypt --no-new-key --backup-dir ${backupDir}`
        : '');
  return {
    exitCode: report.exitCode,
    summary,
    result: { keyring: dir, new_key: newKey, current: report.current, dry_run: report.dryRun, files },
  };
}
