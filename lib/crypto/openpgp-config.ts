import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';

// Every OpenPGP choice in one place, and why:
// - SEIPDv1 (CFB + MDC) with AES-256: the only integrity-protected format GnuPG 2.2 reads.
//   Never AEAD/OCB/SEIPDv2 (2.2 cannot read it; OCB is also ~60x slower in JS), never v6 keys.
//   We choose the session key ourselves, so recipients' feature flags cannot switch us to AEAD.
// - No OpenPGP compression: archives are gzip already and compressing again costs ~7x.
// - Decrypt with allowUnauthenticatedStream: otherwise openpgp.js buffers the whole message
//   to check the MDC first (GiBs of RSS). It is safe here only because plaintext always goes
//   to a temporary file that is published (or hashed) after the stream ended cleanly, MDC
//   included, and its sha256 matched what the caller expected.

export const ENCRYPT_CONFIG: openpgp.PartialConfig = {
  preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
  preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256,
  aeadProtect: false,
  v6Keys: false,
};

export const DECRYPT_CONFIG: openpgp.PartialConfig = {
  allowUnauthenticatedStream: true,
};

export const KEYGEN_CONFIG: openpgp.PartialConfig = {
  ...ENCRYPT_CONFIG,
  // The key's preference list then starts with "uncompressed": gpg encrypting to our keys
  // does not compress either (measured with GnuPG 2.2.40).
};

/** Read size for files fed to openpgp.js: 512 KiB measured best for speed vs. RSS. */
export const STREAM_CHUNK = 512 * 1024;

/** A fresh AES-256 session key with no AEAD algorithm: this is what forces SEIPDv1. */
export function newSessionKey(): openpgp.SessionKey {
  return { data: new Uint8Array(randomBytes(32)), algorithm: 'aes256' };
}

/** Public-key algorithms GnuPG 2.2 understands (RFC 4880/6637 + legacy EdDSA/ECDH 25519). */
export const GNUPG22_ENCRYPTION_ALGORITHMS: ReadonlySet<string> = new Set([
  'rsaEncryptSign',
  'rsaEncrypt',
  'elgamal',
  'ecdh',
]);
export const GNUPG22_SIGNING_ALGORITHMS: ReadonlySet<string> = new Set([
  'rsaEncryptSign',
  'rsaSign',
  'dsa',
  'ecdsa',
  'eddsaLegacy',
]);
