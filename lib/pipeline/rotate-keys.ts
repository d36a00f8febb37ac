import { ArkError, EXIT, type ExitCode } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { checkReencryption, reencryptBackups, type ReencryptedFile } from './reencrypt-backups.ts';
import {
  currentRecipient,
  keyringDecryptionKeys,
  readKeyring,
  type RecipientKey,
  rotateKeyring,
  type UnlockedKey,
} from '../crypto/index.ts';

export interface RotateKeysOptions {
  keyringDir: string;
  backupDir: string;
  /** Generate a new current key (false: only re-encrypt to the current one, e.g. to resume). */
  newKey: boolean;
  reencrypt: boolean;
  userId?: string;
  /** Protects the new private key; also tried on the old ones. */
  passphrase?: string;
  /** Passphrases of the retired keys, when they differ. */
  oldPassphrases?: readonly string[];
  /** Recipients to keep besides the current key when re-encrypting (e.g. an escrow key). */
  extraRecipients?: readonly RecipientKey[];
  dryRun?: boolean;
  lockTimeoutMs?: number;
  sink: EventSink;
}

export interface RotateKeysReport {
  keyring: string;
  newKey: { fingerprint: string; previous: string | null } | null;
  current: string | null;
  dryRun: boolean;
  files: ReencryptedFile[];
  /** The most serious failure among the files: integrity (3) over usage (2) over failed (1). */
  exitCode: ExitCode;
}

/**
 * The monthly key rotation: check first that the keyring can open every encrypted backup
 * (a wrong old passphrase stops here, before anything changes), make a new key current, then
 * (optionally) re-encrypt every encrypted backup to it, file by file (see reencrypt-backups.ts).
 */
export async function rotateKeys(options: RotateKeysOptions): Promise<RotateKeysReport> {
  const { keyringDir: dir, sink } = options;
  if (!options.newKey && !options.reencrypt)
    throw new ArkError('NOTHING_TO_DO', 'neither a new key nor a re-encryption was asked for', {
      exitCode: EXIT.usage,
    });
  const passphrases = [...(options.oldPassphrases ?? []), ...(options.passphrase ? [options.passphrase] : [])];
  const dryRun = options.dryRun === true;
  const keyringExists = await readKeyring(dir).then(
    () => true,
    () => false,
  );

  // 1. Fail before any change when the old keys cannot be unlocked.
  if (options.reencrypt && !dryRun && keyringExists) {
    const check = await checkReencryption({ backupDir: options.backupDir, keyringDir: dir, passphrases });
    if (check.unopenable.length > 0) {
      sink({
        kind: 'warning',
        code: 'NO_KEY_FOR_SOME_FILES',
        message: `no private key in ${dir} for key IDs ${check.unopenable.join(', ')}: files encrypted only to those will not be re-encrypted`,
      });
    }
  }

  // 2. The new current key (or the current one, to resume a re-encryption).
  let newKey: RotateKeysReport['newKey'] = null;
  let current: RecipientKey | null = null;
  let verifyKeys: UnlockedKey[] = [];
  if (!options.newKey) {
    current = await currentRecipient(dir);
    verifyKeys = await keyringDecryptionKeys(dir, [current.encryptionKeyId], passphrases);
  } else if (dryRun) {
    const previous = keyringExists ? (await readKeyring(dir)).current : null;
    sink({
      kind: 'dry-run',
      message: `would generate a new key pair in ${dir} and make it current${previous ? ` (${previous} would be retired, and kept)` : ''}`,
    });
  } else {
    const { previous, pair } = await rotateKeyring({
      dir,
      ...(options.userId ? { userId: options.userId } : {}),
      ...(options.passphrase ? { passphrase: options.passphrase } : {}),
      sink,
    });
    if (!options.passphrase)
      sink({
        kind: 'warning',
        code: 'KEY_UNPROTECTED',
        message: `the new private key in ${dir} is not passphrase-protected`,
      });
    newKey = { fingerprint: pair.info.fingerprint, previous };
    current = await currentRecipient(dir);
    verifyKeys = [{ key: pair.unlocked, info: pair.info, source: dir }];
  }

  // 3. Re-encrypt the encrypted backups to it.
  const files = options.reencrypt
    ? await reencryptBackups({
        backupDir: options.backupDir,
        keyringDir: dir,
        recipients: [...(current ? [current] : []), ...(options.extraRecipients ?? [])],
        verifyKeys,
        passphrases,
        dryRun,
        ...(options.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: options.lockTimeoutMs }),
        sink,
      })
    : [];
  const failed = files.filter((f) => f.action === 'failed');
  const bySeverity: ExitCode[] = [EXIT.integrity, EXIT.usage, EXIT.failed];
  const exitCode: ExitCode =
    failed.length === 0
      ? EXIT.ok
      : (bySeverity.find((c) => failed.some((f) => f.error?.exitCode === c)) ?? EXIT.failed);
  return { keyring: dir, newKey, current: current?.info.fingerprint ?? null, dryRun, files, exitCode };
}
