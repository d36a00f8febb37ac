import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import * as openpgp from 'openpgp';
import { errorText, KeyError } from './crypto-errors.ts';
import { ENCRYPT_CONFIG, newSessionKey } from './openpgp-config.ts';
import type { RecipientKey, UnlockedKey } from './read-keys.ts';

export interface EncryptStreamOptions {
  /** Plaintext. Read as fast as the ciphertext is consumed (backpressure end to end). */
  input: Readable;
  recipients: readonly RecipientKey[];
  /** Signs inside the encryption (one-pass signature), as `gpg --sign --encrypt` does. */
  signingKey?: UnlockedKey;
  /** Name stored in the literal packet (what `gpg --use-embedded-filename` writes to). */
  filename?: string;
  date?: Date;
}

export interface EncryptedStream {
  ciphertext: Readable;
  /**
   * The message's AES-256 session key: lets the writer check the encrypted data without any
   * private key. A secret: keep it in memory only, and `.fill(0)` it when done.
   */
  sessionKey: openpgp.SessionKey;
}

/** Streaming OpenPGP encryption that GnuPG 2.2 decrypts: SEIPDv1, AES-256, uncompressed, binary. */
export async function encryptStream(options: EncryptStreamOptions): Promise<EncryptedStream> {
  if (options.recipients.length === 0) throw new KeyError('WRONG_KEY', 'no recipient to encrypt to');
  const sessionKey = newSessionKey();
  const message = await openpgp.createMessage({
    binary: Readable.toWeb(options.input) as unknown as openpgp.WebStream<Uint8Array>,
    format: 'binary',
    ...(options.filename ? { filename: options.filename } : {}),
    ...(options.date ? { date: options.date } : {}),
  });
  let encrypted: openpgp.WebStream<Uint8Array>;
  try {
    encrypted = await openpgp.encrypt({
      message,
      encryptionKeys: options.recipients.map((r) => r.key),
      ...(options.signingKey ? { signingKeys: [options.signingKey.key] } : {}),
      sessionKey,
      format: 'binary',
      config: ENCRYPT_CONFIG,
      ...(options.date ? { date: options.date } : {}),
    });
  } catch (error) {
    options.input.destroy();
    throw new KeyError(
      'KEY_INCOMPATIBLE',
      `cannot encrypt to ${options.recipients.map((r) => r.info.fingerprint).join(', ')}${options.signingKey ? ` signed by ${options.signingKey.info.fingerprint}` : ''}: ${errorText(error)}`,
      { cause: error },
    );
  }
  return { ciphertext: Readable.fromWeb(encrypted as unknown as NodeWebReadableStream<Uint8Array>), sessionKey };
}
