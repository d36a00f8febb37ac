import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { pipeline as pipe, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashingPassThrough } from '../checksum/index.ts';
import type { EventSink } from '../events.ts';
import { fsyncDir } from '../state/index.ts';
import { CiphertextError } from './crypto-errors.ts';
import { encryptStream } from './encrypt-stream.ts';
import { STREAM_CHUNK } from './openpgp-config.ts';
import type { RecipientKey, UnlockedKey } from './read-keys.ts';
import { fsyncFile, tempPathFor } from './temp-file.ts';
import { verifyEncryptedFile, type EncryptedVerification } from './verify-encrypted-file.ts';

export interface EncryptFileOptions {
  source: string;
  /** Written atomically: replaced (if it exists) only once the new file verified. */
  target: string;
  recipients: readonly RecipientKey[];
  signingKey?: UnlockedKey;
  /** sha256 the source must have (the backup's checksum file): checked on the bytes encrypted. */
  expectedSha256?: string;
  /**
   * Private keys for a full decrypt-verify. The signing key is also used when it is one of the
   * recipients. Without any, the data is verified with the session key (see verify-encrypted-file.ts).
   */
  verifyKeys?: readonly UnlockedKey[];
  mode?: number;
  sink?: EventSink;
  /** Plaintext bytes encrypted so far, as they are read (often: throttle it). */
  onProgress?: (bytes: number) => void;
}

export interface EncryptedFile {
  file: string;
  bytes: number;
  sha256: string;
  plaintextBytes: number;
  plaintextSha256: string;
  recipients: { fingerprint: string; keyId: string }[];
  signedBy: string | null;
  verification: EncryptedVerification;
}

/**
 * Encrypt `source` to `target`, streaming (memory does not grow with the file): hash the
 * plaintext as it is read (it must still be the verified archive) and the ciphertext as it
 * is written, fsync, verify the written file, and only then rename it into place. On any
 * failure the temp file is removed and an existing `target` is left as it was.
 * Idempotent in effect: running it again yields another ciphertext of the same plaintext.
 */
export async function encryptFile(options: EncryptFileOptions): Promise<EncryptedFile> {
  const { target } = options;
  const name = basename(target);
  const temp = tempPathFor(target);
  const plainHasher = new HashingPassThrough();
  const cipherHasher = new HashingPassThrough();
  let sessionKeyData: Uint8Array | undefined;
  try {
    // 1. Encrypt to a temp file beside the target.
    const source = createReadStream(options.source, { highWaterMark: STREAM_CHUNK });
    const plaintext = options.onProgress
      ? pipe(
          source,
          plainHasher,
          progressTap(() => options.onProgress!(plainHasher.bytes)),
          () => {},
        )
      : pipe(source, plainHasher, () => {});
    const { ciphertext, sessionKey } = await encryptStream({
      input: plaintext,
      recipients: options.recipients,
      ...(options.signingKey ? { signingKey: options.signingKey } : {}),
      filename: basename(options.source),
    });
    sessionKeyData = sessionKey.data;
    await pipeline(ciphertext, cipherHasher, createWriteStream(temp, { flags: 'wx', mode: options.mode ?? 0o644 }));
    await fsyncFile(temp);

    // 2. What was encrypted is what the checksum file vouched for (it did not change meanwhile).
    const plaintextSha256 = plainHasher.digest();
    if (options.expectedSha256 !== undefined && plaintextSha256 !== options.expectedSha256) {
      throw new CiphertextError(
        'PLAINTEXT_MISMATCH',
        `${basename(options.source)} changed while it was encrypted (sha256 ${plaintextSha256}, verified as ${options.expectedSha256}); nothing was published`,
      );
    }

    // 3. Verify the written file with the best key material we hold.
    const verifyKeys = [...(options.verifyKeys ?? []), ...(options.signingKey ? [options.signingKey] : [])];
    const verification = await verifyEncryptedFile({
      file: temp,
      label: name,
      recipients: options.recipients,
      expectedSha256: plaintextSha256,
      expectedPlaintextBytes: plainHasher.bytes,
      decryptionKeys: verifyKeys,
      sessionKey,
      ...(options.signingKey ? { verificationKeys: [options.signingKey.key.toPublic()] } : {}),
      ...(options.sink ? { sink: options.sink } : {}),
    });

    // 4. Publish.
    await rename(temp, target);
    await fsyncDir(dirname(target));
    return {
      file: target,
      bytes: cipherHasher.bytes,
      sha256: cipherHasher.digest(),
      plaintextBytes: plainHasher.bytes,
      plaintextSha256,
      recipients: options.recipients.map((r) => ({ fingerprint: r.info.fingerprint, keyId: r.encryptionKeyId })),
      signedBy: options.signingKey?.info.fingerprint ?? null,
      verification,
    };
  } finally {
    sessionKeyData?.fill(0);
    await rm(temp, { force: true });
  }
}

/** A pass-through that calls `tick` once per chunk. */
function progressTap(tick: () => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      tick();
      callback(null, chunk);
    },
  });
}
