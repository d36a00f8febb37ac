import { createDecipheriv } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import * as openpgp from 'openpgp';
import { ArkError } from '../errors.ts';
import { CiphertextError, errorText, isIoError, KeyError } from './crypto-errors.ts';
import { inspectEncryptedFile, isArmored, TAG, type EncryptedFileInfo } from './inspect-encrypted-file.ts';
import { DECRYPT_CONFIG, STREAM_CHUNK } from './openpgp-config.ts';
import type { UnlockedKey } from './read-keys.ts';

// The one place that decrypts. It checks everything that can be checked before any plaintext
// flows (structure, recipients, the session key), so that a wrong key or a damaged header is
// reported as such; what can only be known at the end (the MDC, a signature) surfaces as an
// error of the plaintext stream, mapped by `ciphertextError`. Callers must treat plaintext as
// untrusted until the stream ended without error (see openpgp-config.ts).

export interface DecryptionSource {
  file: string;
  /** Names the file in messages (default: its base name), e.g. the final name of a temp file. */
  label?: string;
  /** Private keys, unlocked; the ones the file is encrypted to are used. */
  keys?: readonly UnlockedKey[];
  /** Or the session key kept by the encrypting side (verification without a private key). */
  sessionKey?: openpgp.SessionKey;
  /** Public keys whose signatures are checked. */
  verificationKeys?: readonly openpgp.PublicKey[];
}

export interface SignatureCheck {
  keyId: string;
  /** Resolves once the plaintext stream ended: true, or the reason it does not verify. */
  result: Promise<true | string>;
}

export interface OpenedDecryption {
  plaintext: Readable;
  /** Key IDs the file is encrypted to. */
  recipients: string[];
  /** The key ID that opened it (null with a session key). */
  keyId: string | null;
  /** GnuPG compressed the content (gpg without --compress-algo none): openpgp.js then buffers. */
  compressed: boolean;
  signatures: SignatureCheck[];
  info: EncryptedFileInfo | null;
}

const WILDCARD = '0000000000000000';

export async function openDecryption(source: DecryptionSource): Promise<OpenedDecryption> {
  const name = source.label ?? basename(source.file);
  const armored = await startsArmored(source.file);
  const info = armored ? null : await inspectEncryptedFile(source.file, name);
  if (info && info.data.tag !== TAG.seipd) {
    throw new CiphertextError(
      'CIPHERTEXT_UNSUPPORTED',
      `${name} uses ${info.data.tag === TAG.sed ? 'the legacy format without integrity protection' : 'the AEAD draft format'}; refusing to decrypt it`,
    );
  }
  const input = createReadStream(
    source.file,
    armored ? { encoding: 'utf8', highWaterMark: STREAM_CHUNK } : { highWaterMark: STREAM_CHUNK },
  );
  try {
    return await decryptMessage(source, input, armored, info);
  } catch (error) {
    input.destroy();
    throw error;
  }
}

async function decryptMessage(
  source: DecryptionSource,
  input: Readable,
  armored: boolean,
  info: EncryptedFileInfo | null,
): Promise<OpenedDecryption> {
  const name = source.label ?? basename(source.file);
  let message: openpgp.Message<openpgp.WebStream<Uint8Array> | openpgp.WebStream<string>>;
  try {
    message = armored
      ? await openpgp.readMessage({ armoredMessage: toWeb<string>(input) })
      : await openpgp.readMessage({ binaryMessage: toWeb<Uint8Array>(input) });
  } catch (error) {
    throw ciphertextError(error, name);
  }
  const recipients = info
    ? info.recipients.map((r) => r.keyId)
    : message.getEncryptionKeyIDs().map((id) => id.toHex().toUpperCase());

  let sessionKeys: openpgp.SessionKey[];
  let keyId: string | null = null;
  if (source.sessionKey) {
    sessionKeys = [source.sessionKey];
  } else {
    const keys = source.keys ?? [];
    if (keys.length === 0)
      throw new KeyError(
        'WRONG_KEY',
        `${name} is encrypted to key IDs ${recipients.join(', ')}; no private key was given to decrypt it`,
      );
    const matching = keys.filter((k) => k.info.keyIds.some((id) => recipients.includes(id)));
    const candidates = matching.length > 0 ? matching : recipients.includes(WILDCARD) ? keys : [];
    if (candidates.length === 0) {
      const given = keys.map((k) => `${k.info.fingerprint} (key IDs ${k.info.keyIds.join(', ')})`).join('; ');
      throw new KeyError(
        'WRONG_KEY',
        `${name} is encrypted to key IDs ${recipients.join(', ')}; the key given is ${given}, which is none of them. Use the private key of one of those recipients (keys.mts list --keyring DIR shows key IDs).`,
        {
          details: { encrypted_to: recipients, key_given: keys.map((k) => k.info.fingerprint) },
        },
      );
    }
    keyId = candidates.flatMap((k) => k.info.keyIds).find((id) => recipients.includes(id)) ?? WILDCARD;
    try {
      const decrypted = await openpgp.decryptSessionKeys({ message, decryptionKeys: candidates.map((k) => k.key) });
      sessionKeys = decrypted.map((k) => ({ data: k.data, algorithm: k.algorithm ?? 'aes256' }));
    } catch (error) {
      if (keyId === WILDCARD)
        throw new KeyError(
          'WRONG_KEY',
          `${name} hides its recipients' key IDs and none of the keys given decrypts it`,
          { cause: error },
        );
      throw new CiphertextError(
        'CIPHERTEXT_CORRUPT',
        `${name}: the session key addressed to key ${keyId} does not decrypt with that key: the file is damaged (${errorText(error)})`,
        { cause: error },
      );
    }
  }

  const compressed =
    info !== null && sessionKeys[0] !== undefined && firstInnerTag(info, sessionKeys[0]) === TAG.compressed;
  let result: Awaited<ReturnType<typeof openpgp.decrypt<openpgp.WebStream<Uint8Array>>>>;
  try {
    result = await openpgp.decrypt({
      message: message as openpgp.Message<openpgp.WebStream<Uint8Array>>,
      sessionKeys,
      ...(source.verificationKeys?.length ? { verificationKeys: [...source.verificationKeys] } : {}),
      format: 'binary',
      config: DECRYPT_CONFIG,
    });
  } catch (error) {
    throw ciphertextError(error, name);
  }
  const signatures = result.signatures.map((s) => ({
    keyId: s.keyID.toHex().toUpperCase(),
    result: s.verified.then(
      () => true as const,
      (error: unknown) => errorText(error),
    ),
  }));
  const plaintext = Readable.fromWeb(result.data as unknown as NodeWebReadableStream<Uint8Array>);
  return { plaintext, recipients, keyId, compressed, signatures, info };
}

/**
 * Map what openpgp.js throws to typed errors. Anything that is not a key problem (handled
 * before) nor an I/O error is the file's fault: integrity, exit 3.
 */
export function ciphertextError(error: unknown, name: string): Error {
  if (error instanceof ArkError || isIoError(error)) return error as Error;
  const text = errorText(error);
  if (/unexpected end of packet|unexpected end of (stream|file)/i.test(text)) {
    return new CiphertextError(
      'CIPHERTEXT_TRUNCATED',
      `${name} is truncated: the encrypted data ends early. The copy is incomplete: take another copy.`,
      { cause: error },
    );
  }
  if (/modification detected/i.test(text)) {
    return new CiphertextError(
      'CIPHERTEXT_CORRUPT',
      `${name} is damaged: its integrity check (MDC) failed, the encrypted data was modified. Nothing decrypted from it is kept.`,
      { cause: error },
    );
  }
  if (/error during parsing|does not conform/i.test(text))
    return new CiphertextError('NOT_OPENPGP', `${name} is not an OpenPGP encrypted file`, { cause: error });
  if (/not allowed in this context: (public|secret)(Sub)?key/i.test(text))
    return new CiphertextError('NOT_ENCRYPTED', `${name} is an OpenPGP key, not an encrypted file`, { cause: error });
  return new CiphertextError('CIPHERTEXT_CORRUPT', `${name} is damaged: ${text}`, { cause: error });
}

async function startsArmored(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(32);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return isArmored(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/**
 * The tag of the first packet inside a SEIPDv1 packet, by decrypting its first block with the
 * session key (plain CFB, zero IV, after the 16+2 byte random prefix). Only to warn about
 * GnuPG-compressed copies before openpgp.js starts buffering them; null when it cannot tell.
 */
function firstInnerTag(info: EncryptedFileInfo, sessionKey: openpgp.SessionKey): number | null {
  const bits = { aes128: 128, aes192: 192, aes256: 256 }[sessionKey.algorithm as string];
  const head = info.data.head;
  if (!bits || info.data.version !== 1 || head.length < 1 + 16 + 2 + 1 || sessionKey.data.length !== bits / 8)
    return null;
  const decipher = createDecipheriv(`aes-${bits}-cfb`, sessionKey.data, Buffer.alloc(16));
  const plain = decipher.update(head.subarray(1, 1 + 16 + 2 + 1));
  const b0 = plain[18]!;
  if ((b0 & 0x80) === 0) return null;
  return (b0 & 0x40) !== 0 ? b0 & 0x3f : (b0 >> 2) & 0x0f;
}

function toWeb<T extends Uint8Array | string>(stream: Readable): openpgp.WebStream<T> {
  return Readable.toWeb(stream) as unknown as openpgp.WebStream<T>;
}
