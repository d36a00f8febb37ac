import { createWriteStream } from 'node:fs';
import { link, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type * as openpgp from 'openpgp';
import { HashingPassThrough } from '../checksum/index.ts';
import { UsageError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { fsyncDir } from '../state/index.ts';
import { CiphertextError } from './crypto-errors.ts';
import { ciphertextError, openDecryption, type DecryptionSource, type OpenedDecryption } from './open-decryption.ts';
import type { UnlockedKey } from './read-keys.ts';
import { fsyncFile, tempPathFor } from './temp-file.ts';

export interface DecryptFileOptions {
  source: string;
  target: string;
  keys: readonly UnlockedKey[];
  /** sha256 the plaintext must have (the manifest's): the target appears only if it matches. */
  expectedSha256?: string;
  /** When given, the file must carry a valid signature by one of these keys. */
  verificationKeys?: readonly openpgp.PublicKey[];
  /** Replace an existing target (default: refuse). */
  replace?: boolean;
  sink?: EventSink;
  /** Told the plaintext bytes written so far (for progress). */
  onBytes?: (bytes: number) => void;
}

export interface DecryptedFile {
  file: string;
  bytes: number;
  sha256: string;
  keyId: string | null;
  recipients: string[];
  signatures: { keyId: string; valid: boolean; reason?: string }[];
  compressed: boolean;
}

/**
 * Decrypt `source` to `target`, streaming, hashing the plaintext as it is written. The
 * plaintext goes to a hidden temp file (mode 0600) beside the target, and becomes `target`
 * only after the whole stream ended cleanly (MDC verified), the signature (if required)
 * verified and the sha256 matched: a wrong key, a damaged file or a mismatch leaves nothing.
 * Idempotent: the same call again gives the same bytes (with `replace`).
 */
export async function decryptFile(options: DecryptFileOptions): Promise<DecryptedFile> {
  const { target } = options;
  if (
    !options.replace &&
    (await stat(target).then(
      () => true,
      () => false,
    ))
  ) {
    throw new UsageError(`${target} already exists; refusing to overwrite it`);
  }
  const opened = await openDecryption(decryptionSource(options));
  warnIfCompressed(opened, options.source, options.sink);
  const temp = tempPathFor(target);
  try {
    const hasher = new HashingPassThrough(options.onBytes ? { onBytes: options.onBytes } : {});
    try {
      await pipeline(opened.plaintext, hasher, createWriteStream(temp, { flags: 'wx', mode: 0o600 }));
    } catch (error) {
      throw ciphertextError(error, basename(options.source));
    }
    await fsyncFile(temp);
    const signatures = await checkSignatures(opened, options);
    const sha256 = hasher.digest();
    if (options.expectedSha256 !== undefined && sha256 !== options.expectedSha256) {
      throw new CiphertextError(
        'PLAINTEXT_MISMATCH',
        `${basename(options.source)} decrypts to sha256 ${sha256}, not the expected ${options.expectedSha256}: it is not the archive the manifest describes`,
      );
    }
    if (options.replace) {
      await rename(temp, target);
    } else {
      await link(temp, target); // no-clobber: fails with EEXIST if the target appeared meanwhile
      await rm(temp);
    }
    await fsyncDir(dirname(target));
    return {
      file: target,
      bytes: hasher.bytes,
      sha256,
      keyId: opened.keyId,
      recipients: opened.recipients,
      signatures,
      compressed: opened.compressed,
    };
  } finally {
    await rm(temp, { force: true });
  }
}

/** Decrypt and hash without writing anything: for verification. Same errors as decryptFile. */
export async function hashDecryption(
  source: DecryptionSource & { expectedSha256?: string; sink?: EventSink },
): Promise<DecryptedFile & { file: string }> {
  const opened = await openDecryption(source);
  warnIfCompressed(opened, source.label ?? source.file, source.sink);
  const hasher = new HashingPassThrough();
  const name = source.label ?? basename(source.file);
  try {
    await pipeline(opened.plaintext, hasher, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
  } catch (error) {
    throw ciphertextError(error, name);
  }
  const signatures = await checkSignatures(opened, { ...source, file: name });
  const sha256 = hasher.digest();
  if (source.expectedSha256 !== undefined && sha256 !== source.expectedSha256) {
    throw new CiphertextError(
      'PLAINTEXT_MISMATCH',
      `${name} decrypts to sha256 ${sha256}, not the expected ${source.expectedSha256}`,
    );
  }
  return {
    file: source.file,
    bytes: hasher.bytes,
    sha256,
    keyId: opened.keyId,
    recipients: opened.recipients,
    signatures,
    compressed: opened.compressed,
  };
}

function decryptionSource(options: DecryptFileOptions): DecryptionSource {
  return {
    file: options.source,
    keys: options.keys,
    ...(options.verificationKeys ? { verificationKeys: options.verificationKeys } : {}),
  };
}

function warnIfCompressed(opened: OpenedDecryption, file: string, sink?: EventSink): void {
  if (!opened.compressed) return;
  sink?.({
    kind: 'warning',
    code: 'OPENPGP_COMPRESSED',
    path: file,
    message: `${basename(file)} was compressed by GnuPG: openpgp.js decompresses it slowly and its memory grows with the file. Make gpg copies with --compress-algo none (or decrypt this one with gpg).`,
  });
}

async function checkSignatures(
  opened: OpenedDecryption,
  options: { verificationKeys?: readonly openpgp.PublicKey[]; file?: string; source?: string },
): Promise<DecryptedFile['signatures']> {
  const checks = await Promise.all(opened.signatures.map(async (s) => ({ keyId: s.keyId, outcome: await s.result })));
  const signatures = checks.map((c) =>
    c.outcome === true ? { keyId: c.keyId, valid: true } : { keyId: c.keyId, valid: false, reason: c.outcome },
  );
  if (options.verificationKeys?.length && !signatures.some((s) => s.valid)) {
    const name = basename(options.source ?? options.file ?? '');
    const found =
      signatures.length === 0 ? 'it is not signed' : signatures.map((s) => `${s.keyId}: ${s.reason}`).join('; ');
    throw new CiphertextError('SIGNATURE_INVALID', `${name} has no valid signature by the expected key(s): ${found}`);
  }
  return signatures;
}
