// crypto: OpenPGP encrypt / sign / decrypt / verify, streaming, in the formats GnuPG 2.2
// reads (v4 keys, SEIPDv1, AES-256, uncompressed); backup key pairs, the keyring and its
// rotation; the encrypted/ folder of a backup (SHA256SUMS, encrypted_manifest.json). The runs
// that use them (encrypted-backup, re-encryption, key rotation) are in lib/pipeline.
// Failures: a key file that is not the one needed, a wrong key or passphrase (KeyError,
// exit 2); a file that is not OpenPGP, truncated, modified, addressed to other keys, or that
// decrypts to other bytes than the manifest's (CiphertextError, integrity, exit 3). Nothing
// is published (plaintext or ciphertext) until it verified.
export { KeyError, CiphertextError, type KeyErrorCode, type CiphertextErrorCode } from './crypto-errors.ts';
export { describeKey, type KeyInfo } from './describe-key.ts';
export { resolvePassphrase, type Passphrase } from './read-passphrase.ts';
export {
  readKeyFile,
  readRecipientKey,
  readPrivateKeys,
  readSigningKey,
  recipientFromKey,
  unlockKey,
  type RecipientKey,
  type UnlockedKey,
} from './read-keys.ts';
export { encryptStream, type EncryptStreamOptions, type EncryptedStream } from './encrypt-stream.ts';
export { encryptFile, type EncryptFileOptions, type EncryptedFile } from './encrypt-file.ts';
export { ciphertextError, openDecryption, type DecryptionSource, type OpenedDecryption } from './open-decryption.ts';
export { decryptFile, hashDecryption, type DecryptFileOptions, type DecryptedFile } from './decrypt-file.ts';
export { inspectEncryptedFile, type EncryptedFileInfo, type SessionKeyPacket } from './inspect-encrypted-file.ts';
export {
  verifyEncryptedFile,
  ciphertextBounds,
  type VerifyEncryptedOptions,
  type EncryptedVerification,
  type VerificationLevel,
} from './verify-encrypted-file.ts';
export { generateKeyPair, writeKeyPair, parseUserId, DEFAULT_USER_ID, type GeneratedKeyPair } from './generate-key.ts';
export {
  readKeyring,
  currentRecipient,
  keyringDecryptionKeys,
  rotateKeyring,
  CURRENT_FILE,
  type Keyring,
  type KeyringKey,
  type RotateOptions,
} from './keyring.ts';
export { signDetached, verifyDetached } from './detached-signature.ts';
export {
  readEncryptedManifest,
  readSums,
  recordEncryptedFile,
  removeStaleTemps,
  type EncryptedRecord,
  type EncryptedManifest,
} from './encrypted-dir.ts';
export { fsyncFile, tempPathFor } from './temp-file.ts';
export { ENCRYPTED_MANIFEST_FORMAT, encryptedManifestSchema } from './encrypted-dir.ts';
