import { createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline as pipe } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashingPassThrough } from '../checksum/index.ts';
import { toArkError, type ArkError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { withBackupLock } from '../lock/index.ts';
import { fsyncDir } from '../state/index.ts';
import { encryptedDir, isEncryptedName } from '../layout/index.ts';
import {
  ciphertextError,
  CiphertextError,
  encryptStream,
  fsyncFile,
  inspectEncryptedFile,
  KeyError,
  keyringDecryptionKeys,
  openDecryption,
  readEncryptedManifest,
  readKeyring,
  type RecipientKey,
  recordEncryptedFile,
  removeStaleTemps,
  tempPathFor,
  type UnlockedKey,
  verifyEncryptedFile,
} from '../crypto/index.ts';

export interface ReencryptOptions {
  backupDir: string;
  keyringDir: string;
  /** The new recipients: the keyring's current key, plus any others to keep (escrow). */
  recipients: readonly RecipientKey[];
  /** Private keys among the new recipients: every new file is verified by decrypting it with one. */
  verifyKeys: readonly UnlockedKey[];
  /** Passphrases to try on the old (retired) keys. */
  passphrases: readonly string[];
  dryRun?: boolean;
  /** How long to wait for another run holding the backup folder's lock (lib/lock). */
  lockTimeoutMs?: number;
  sink: EventSink;
  now?: () => Date;
}

export interface ReencryptedFile {
  file: string;
  action: 'reencrypted' | 'unchanged' | 'would-reencrypt' | 'failed';
  from: string[];
  to: string[];
  error?: { code: string; message: string; exitCode: number };
}

/**
 * Re-encrypt every <backup-dir>/encrypted/*.gpg to the new recipients, one file at a time:
 * old key decrypts → new keys encrypt, streamed, the plaintext never touching the disk → the
 * new file is written beside the old one, decrypted again with the new key and compared
 * (sha256 of the plaintext, and the manifest's record of the archive) → only then renamed
 * over the old one. A file that fails keeps its old copy; the others still proceed.
 * Idempotent: files already addressed to exactly the new recipients are left alone.
 */
export async function reencryptBackups(options: ReencryptOptions): Promise<ReencryptedFile[]> {
  if (
    options.dryRun ||
    !(await stat(options.backupDir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    return reencryptUnderLock(options);
  const timeout = options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs };
  return withBackupLock({ backupDir: options.backupDir, sink: options.sink, ...timeout }, () =>
    reencryptUnderLock(options),
  );
}

async function reencryptUnderLock(options: ReencryptOptions): Promise<ReencryptedFile[]> {
  const { sink } = options;
  const dir = encryptedDir(options.backupDir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter(isEncryptedName).sort();
  const to = options.recipients.map((r) => r.encryptionKeyId);
  const known = new Set((await readKeyring(options.keyringDir)).keys.flatMap((k) => k.keyIds));
  if (!options.dryRun) await removeStaleTemps(dir, sink);
  const results: ReencryptedFile[] = [];
  for (const name of names) {
    let from: string[] = [];
    try {
      from = (await inspectEncryptedFile(join(dir, name))).recipients.map((r) => r.keyId);
      if ([...from].sort().join() === [...to].sort().join()) {
        sink({ kind: 'encryption-skipped', archive: '', file: name, reason: 'already encrypted to the current key' });
        results.push({ file: name, action: 'unchanged', from, to });
        continue;
      }
      if (options.dryRun) {
        sink({
          kind: 'dry-run',
          message: `would re-encrypt ${name}: ${from.join(', ')} → ${to.join(', ') || 'the new key'}`,
        });
        results.push({ file: name, action: 'would-reencrypt', from, to });
        continue;
      }
      const foreign = from.filter((id) => !known.has(id) && !to.includes(id));
      if (foreign.length > 0) {
        sink({
          kind: 'warning',
          code: 'RECIPIENT_DROPPED',
          path: join(dir, name),
          message: `${name} was also encrypted to key IDs ${foreign.join(', ')} (not in the keyring); the re-encrypted copy is not. Pass --recipient FILE to keep them.`,
        });
      }
      await reencryptOne(dir, name, from, options);
      sink({ kind: 'file-reencrypted', file: name, from, to });
      results.push({ file: name, action: 'reencrypted', from, to });
    } catch (thrown) {
      const error: ArkError = toArkError(thrown);
      sink({
        kind: 'warning',
        code: error.code,
        path: join(dir, name),
        message: `${name} was not re-encrypted (its old copy is untouched): ${error.message}`,
      });
      results.push({
        file: name,
        action: 'failed',
        from,
        to,
        error: { code: error.code, message: error.message, exitCode: error.exitCode },
      });
    }
  }
  return results;
}

/**
 * Before rotating: can the keyring open every encrypted backup with these passphrases? Throws
 * the KeyError (wrong passphrase...) now, before anything changes, rather than file by file
 * after a new key was made. Returns the key IDs no private key in the keyring matches.
 */
export async function checkReencryption(options: {
  backupDir: string;
  keyringDir: string;
  passphrases: readonly string[];
}): Promise<{ files: number; unopenable: string[] }> {
  const dir = encryptedDir(options.backupDir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter(isEncryptedName);
  const ids = new Set<string>();
  for (const name of names) {
    const info = await inspectEncryptedFile(join(dir, name)).catch(() => null); // damaged files are reported by the re-encryption itself
    for (const r of info?.recipients ?? []) ids.add(r.keyId);
  }
  const keys = await keyringDecryptionKeys(options.keyringDir, [...ids], options.passphrases);
  const opened = new Set(keys.flatMap((k) => k.info.keyIds));
  return { files: names.length, unopenable: [...ids].filter((id) => !opened.has(id)) };
}

async function reencryptOne(dir: string, name: string, from: string[], options: ReencryptOptions): Promise<void> {
  const path = join(dir, name);
  const keys = await keyringDecryptionKeys(options.keyringDir, from, options.passphrases);
  if (keys.length === 0) {
    throw new KeyError(
      'WRONG_KEY',
      `${name} is encrypted to key IDs ${from.join(', ')}; the keyring ${options.keyringDir} holds no private key for any of them`,
    );
  }
  const record = (await readEncryptedManifest(dir, options.sink)).files[name];
  const temp = tempPathFor(path);
  const plainHasher = new HashingPassThrough();
  const cipherHasher = new HashingPassThrough();
  let sessionKeyData: Uint8Array | undefined;
  try {
    // 1. Old key → new keys, streamed; the MDC of the old file is checked at the end of the stream.
    const opened = await openDecryption({ file: path, keys });
    const plaintext = pipe(opened.plaintext, plainHasher, () => {});
    const { ciphertext, sessionKey } = await encryptStream({
      input: plaintext,
      recipients: options.recipients,
      filename: name.replace(/\.gpg$/, ''),
    });
    sessionKeyData = sessionKey.data;
    try {
      await pipeline(ciphertext, cipherHasher, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
    } catch (error) {
      throw ciphertextError(error, name);
    }
    await fsyncFile(temp);
    const sha256 = plainHasher.digest();
    // 2. It still is the archive the manifest recorded.
    if (record && record.source_sha256 !== sha256) {
      throw new CiphertextError(
        'PLAINTEXT_MISMATCH',
        `${name} decrypts to sha256 ${sha256}, but ${record.source ?? 'its archive'} was recorded as ${record.source_sha256}`,
      );
    }
    // 3. The new file decrypts, with the new key, to the same bytes.
    const verification = await verifyEncryptedFile({
      file: temp,
      label: name,
      recipients: options.recipients,
      expectedSha256: sha256,
      expectedPlaintextBytes: plainHasher.bytes,
      decryptionKeys: options.verifyKeys,
      sessionKey,
      sink: options.sink,
    });
    if (record?.signed_by) {
      options.sink({
        kind: 'warning',
        code: 'SIGNATURE_NOT_CARRIED',
        path,
        message: `${name} was signed by ${record.signed_by}; the re-encrypted copy is not signed`,
      });
    }
    // 4. Only now replace the old copy, then record the new one.
    await rename(temp, path);
    await fsyncDir(dir);
    await recordEncryptedFile(
      dir,
      name,
      {
        source: record?.source ?? null,
        source_sha256: sha256,
        source_bytes: plainHasher.bytes,
        sha256: cipherHasher.digest(),
        bytes: cipherHasher.bytes,
        recipients: options.recipients.map((r) => ({ fingerprint: r.info.fingerprint, key_id: r.encryptionKeyId })),
        signed_by: null,
        verification: verification.level,
        encrypted_at: (options.now ?? (() => new Date()))().toISOString(),
        // The same backup, to new recipients: it still ran when it ran.
        ...(record?.backup_date !== undefined ? { backup_date: record.backup_date } : {}),
      },
      options.sink,
    );
    options.sink({ kind: 'encryption-verified', file: name, level: verification.level, note: verification.note });
  } finally {
    sessionKeyData?.fill(0);
    await rm(temp, { force: true });
  }
}
