import { basename } from 'node:path';
import type * as openpgp from 'openpgp';
import type { EventSink } from '../events.ts';
import { CiphertextError } from './crypto-errors.ts';
import { hashDecryption } from './decrypt-file.ts';
import { inspectEncryptedFile, TAG, type EncryptedFileInfo } from './inspect-encrypted-file.ts';
import type { RecipientKey, UnlockedKey } from './read-keys.ts';

// How much of an encrypted file can be verified depends on what the verifier holds:
// - "full": a recipient's private key. Decrypt it all; sha256 equals the expected one.
//   Proves a recipient can really restore it (key packet included).
// - "session-key": the session key kept in memory by the side that just encrypted it.
//   Decrypt the data with it (MDC, sha256 against the manifest): the data packet is proven
//   byte for byte; each recipient's key packet is only checked structurally (addressed to the
//   right subkey, right algorithm), since opening it needs that recipient's private key.
// - "structure": nothing. Packet walk: parses to the end, addressed to exactly the expected
//   encryption subkeys, SEIPDv1, and a data length consistent with the plaintext's size.

export type VerificationLevel = 'full' | 'session-key' | 'structure';

export interface VerifyEncryptedOptions {
  file: string;
  /** Names the file in messages (a temp file is verified under its final name). */
  label?: string;
  /** It must be addressed to exactly these recipients' encryption subkeys (and nothing else). */
  recipients?: readonly RecipientKey[];
  expectedSha256?: string;
  expectedPlaintextBytes?: number;
  /** For "full": private keys; one the file is addressed to is used. */
  decryptionKeys?: readonly UnlockedKey[];
  /** For "session-key". */
  sessionKey?: openpgp.SessionKey;
  /** When given, a valid signature by one of these is required. */
  verificationKeys?: readonly openpgp.PublicKey[];
  sink?: EventSink;
}

export interface EncryptedVerification {
  level: VerificationLevel;
  encryptedTo: string[];
  /** sha256 of the decrypted content (null at level "structure"). */
  sha256: string | null;
  /** The key that decrypted it at level "full". */
  keyId: string | null;
  /** One line for the operator: what was proven and what was not. */
  note: string;
}

export async function verifyEncryptedFile(options: VerifyEncryptedOptions): Promise<EncryptedVerification> {
  const name = options.label ?? basename(options.file);
  // 1. Structure and addressing, without any key.
  const info = await inspectEncryptedFile(options.file, name);
  assertSeipdV1(info, name);
  if (options.recipients) assertAddressedTo(info, options.recipients, name);
  if (options.expectedPlaintextBytes !== undefined) assertLengthConsistent(info, options.expectedPlaintextBytes, name);
  const encryptedTo = info.recipients.map((r) => r.keyId);

  // 2. Decrypt with the best key material available.
  const fullKeys = (options.decryptionKeys ?? []).filter((k) => k.info.keyIds.some((id) => encryptedTo.includes(id)));
  const common = {
    file: options.file,
    label: name,
    ...(options.expectedSha256 !== undefined ? { expectedSha256: options.expectedSha256 } : {}),
    ...(options.verificationKeys ? { verificationKeys: options.verificationKeys } : {}),
    ...(options.sink ? { sink: options.sink } : {}),
  };
  if (fullKeys.length > 0) {
    const decrypted = await hashDecryption({ ...common, keys: fullKeys });
    return {
      level: 'full',
      encryptedTo,
      sha256: decrypted.sha256,
      keyId: decrypted.keyId,
      note: `decrypted with the private key of ${decrypted.keyId}; sha256 matches`,
    };
  }
  const others =
    encryptedTo.length === 1 ? 'the recipient key packet was' : `the ${encryptedTo.length} recipient key packets were`;
  if (options.sessionKey) {
    const decrypted = await hashDecryption({ ...common, sessionKey: options.sessionKey });
    return {
      level: 'session-key',
      encryptedTo,
      sha256: decrypted.sha256,
      keyId: null,
      note: `encrypted data decrypted with the session key held in memory; sha256 matches; ${others} checked structurally (a full decrypt-verify needs a recipient's private key: --verify-key FILE)`,
    };
  }
  return {
    level: 'structure',
    encryptedTo,
    sha256: null,
    keyId: null,
    note: 'packet structure, recipients and length checked; not decrypted (no key available)',
  };
}

function assertSeipdV1(info: EncryptedFileInfo, name: string): void {
  if (info.data.tag !== TAG.seipd || info.data.version !== 1) {
    throw new CiphertextError(
      'CIPHERTEXT_UNSUPPORTED',
      `${name} is not SEIPDv1 (packet ${info.data.tag} version ${info.data.version}): GnuPG 2.2 may not read it`,
    );
  }
}

function assertAddressedTo(info: EncryptedFileInfo, recipients: readonly RecipientKey[], name: string): void {
  const expected = [...new Set(recipients.map((r) => r.encryptionKeyId))].sort();
  const actual = info.recipients.map((r) => r.keyId).sort();
  const wrongAlgorithm = info.recipients.filter((p) =>
    recipients.some((r) => r.encryptionKeyId === p.keyId && r.encryptionAlgorithm !== p.algorithm),
  );
  if (expected.join() !== actual.join() || info.passwordPackets > 0 || wrongAlgorithm.length > 0) {
    throw new CiphertextError(
      'RECIPIENTS_MISMATCH',
      `${name} is addressed to key IDs ${actual.join(', ') || '(none)'}${info.passwordPackets ? ` and ${info.passwordPackets} password(s)` : ''}, expected exactly ${expected.join(', ')}`,
      {
        details: { encrypted_to: actual, expected },
      },
    );
  }
}

/**
 * SEIPDv1 body = version (1) + random prefix (16+2) + the literal packet(s) + MDC (22), and
 * without compression the literal packet holds the plaintext plus a small header, partial
 * length octets (at most one per 512 bytes, for the packet and the literal inside) and, when
 * signed, the signature packets. Anything outside these bounds is not this plaintext.
 */
export function ciphertextBounds(plaintextBytes: number): { min: number; max: number } {
  const min = 1 + 18 + 22 + 2 + 6 + plaintextBytes;
  const partialOctets = 2 * (Math.floor(plaintextBytes / 512) + 2) + 10;
  return { min, max: min + 255 + partialOctets + 16 * 1024 };
}

function assertLengthConsistent(info: EncryptedFileInfo, plaintextBytes: number, name: string): void {
  const { min, max } = ciphertextBounds(plaintextBytes);
  if (info.data.bodyBytes < min || info.data.bodyBytes > max) {
    throw new CiphertextError(
      'CIPHERTEXT_CORRUPT',
      `${name}: its encrypted data is ${info.data.bodyBytes} bytes, which cannot hold the ${plaintextBytes}-byte archive (expected ${min}..${max})`,
    );
  }
}
