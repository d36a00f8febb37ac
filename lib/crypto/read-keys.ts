import { readFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { errorText, KeyError } from './crypto-errors.ts';
import { describeKey, type KeyInfo } from './describe-key.ts';
import { GNUPG22_ENCRYPTION_ALGORITHMS, GNUPG22_SIGNING_ALGORITHMS } from './openpgp-config.ts';

// Key files as operators have them: armored (.asc, ours or `gpg --export[-secret-keys] --armor`)
// or binary (`gpg --export`). Every way a key file can be the wrong one is a KeyError (exit 2)
// that names the file and says which file was expected.

/** A public key we can encrypt to, and the subkey that will actually be used. */
export interface RecipientKey {
  key: openpgp.PublicKey;
  info: KeyInfo;
  /** Key ID of the encryption subkey openpgp.js picks: what the encrypted file will name. */
  encryptionKeyId: string;
  /** Its OpenPGP algorithm number, as the session key packet records it. */
  encryptionAlgorithm: number;
  source: string;
}

/** A private key whose secret material is unlocked (never serialised, never logged). */
export interface UnlockedKey {
  key: openpgp.PrivateKey;
  info: KeyInfo;
  source: string;
}

/** Every key in a file, armored or binary. */
export async function readKeyFile(path: string, label: string): Promise<openpgp.Key[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new KeyError(
      'KEY_UNREADABLE',
      `cannot read ${label} ${path}: ${(error as NodeJS.ErrnoException).code ?? errorText(error)}`,
      { cause: error },
    );
  }
  const text = bytes.toString('latin1');
  try {
    // Several armored blocks may be concatenated (`cat a.asc b.asc`); openpgp.js reads one per call.
    const blocks = bytes
      .toString('utf8')
      .match(/-----BEGIN PGP (PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP \1 KEY BLOCK-----/g);
    if (blocks) return (await Promise.all(blocks.map((block) => openpgp.readKeys({ armoredKeys: block })))).flat();
    if (text.includes('-----BEGIN PGP MESSAGE-----')) throw new Error('it is an encrypted message');
    if (bytes.length === 0 || (bytes[0]! & 0x80) === 0)
      throw new Error(bytes.length === 0 ? 'it is empty' : 'it is neither an armored nor a binary OpenPGP key');
    return await openpgp.readKeys({ binaryKeys: new Uint8Array(bytes) });
  } catch (error) {
    throw new KeyError(
      'NOT_A_KEY',
      `${label} ${path} is not an OpenPGP key: ${errorText(error).replace(/^Error during parsing\. /, '')}`,
      { cause: error },
    );
  }
}

/** A recipient's public key: exactly one key, public, v4, with a valid encryption subkey GnuPG 2.2 reads. */
export async function readRecipientKey(path: string, options: { date?: Date } = {}): Promise<RecipientKey> {
  const keys = await readKeyFile(path, 'recipient key');
  if (keys.length !== 1) {
    throw new KeyError(
      'MULTIPLE_KEYS',
      `recipient key ${path} holds ${keys.length} keys (${keys.map(fingerprintOf).join(', ')}); give one file per recipient (gpg --export --armor KEYID)`,
    );
  }
  const key = keys[0]!;
  if (key.isPrivate()) {
    throw new KeyError(
      'PRIVATE_KEY_AS_RECIPIENT',
      `recipient key ${path} is a PRIVATE key (${fingerprintOf(key)}); --recipient takes the public key (<name>.pub.asc, or gpg --export --armor KEYID). Keep the private key off the backup host.`,
    );
  }
  return recipientFromKey(key, path, options.date);
}

/** Check a public key is usable as a recipient and find the subkey that will be used. */
export async function recipientFromKey(
  key: openpgp.PublicKey,
  source: string,
  date = new Date(),
): Promise<RecipientKey> {
  const info = describeKey(key);
  if (info.version !== 4) {
    throw new KeyError(
      'KEY_INCOMPATIBLE',
      `recipient key ${source} (${info.fingerprint}) is a version ${info.version} key; GnuPG 2.2 cannot decrypt what is encrypted to it. Use a v4 key (keys.mts generate makes one).`,
    );
  }
  let subkey: openpgp.PublicKey | openpgp.Subkey;
  try {
    subkey = await key.getEncryptionKey(undefined, date);
  } catch (error) {
    throw new KeyError(
      'KEY_NO_ENCRYPTION_SUBKEY',
      `recipient key ${source} (${info.fingerprint}) has no valid encryption subkey (expired, revoked, or a signing-only key): ${errorText(error)}`,
      { cause: error },
    );
  }
  const algorithm = subkey.getAlgorithmInfo().algorithm;
  if (!GNUPG22_ENCRYPTION_ALGORITHMS.has(algorithm)) {
    throw new KeyError(
      'KEY_INCOMPATIBLE',
      `recipient key ${source} (${info.fingerprint}) encrypts with ${algorithm}, which GnuPG 2.2 cannot decrypt; use an RSA or cv25519 (ECDH) key`,
    );
  }
  return {
    key,
    info,
    encryptionKeyId: subkey.getKeyID().toHex().toUpperCase(),
    encryptionAlgorithm: subkey.keyPacket.algorithm,
    source,
  };
}

/**
 * The private key(s) in a file, unlocked with one of `passphrases` when protected. A file may
 * hold several (`gpg --export-secret-keys --armor` without a key ID exports them all).
 */
export async function readPrivateKeys(
  path: string,
  options: { passphrases?: readonly string[]; purpose?: 'decrypt' | 'sign' } = {},
): Promise<UnlockedKey[]> {
  const keys = await readKeyFile(path, 'private key');
  const privates = keys.filter((k): k is openpgp.PrivateKey => k.isPrivate());
  if (privates.length === 0) {
    const what = options.purpose === 'sign' ? 'signing' : 'decrypting';
    throw new KeyError(
      'PUBLIC_KEY_GIVEN',
      `${path} is a PUBLIC key (${keys.map(fingerprintOf).join(', ')}); ${what} needs the private key (<name>.sec.asc, or gpg --export-secret-keys --armor KEYID)`,
    );
  }
  return Promise.all(privates.map((key) => unlockKey(key, path, options.passphrases ?? [])));
}

/** One signing key: private, unlocked, with a signing key GnuPG 2.2 verifies. */
export async function readSigningKey(
  path: string,
  options: { passphrases?: readonly string[] } = {},
): Promise<UnlockedKey> {
  const keys = await readPrivateKeys(path, { ...options, purpose: 'sign' });
  if (keys.length !== 1)
    throw new KeyError(
      'MULTIPLE_KEYS',
      `signing key ${path} holds ${keys.length} private keys; export just one (gpg --export-secret-keys --armor KEYID)`,
    );
  const unlocked = keys[0]!;
  let signing: openpgp.PrivateKey | openpgp.Subkey;
  try {
    signing = await unlocked.key.getSigningKey();
  } catch (error) {
    throw new KeyError(
      'KEY_NO_SIGNING_KEY',
      `signing key ${path} (${unlocked.info.fingerprint}) cannot sign: ${errorText(error)}`,
      { cause: error },
    );
  }
  if (unlocked.info.version !== 4 || !GNUPG22_SIGNING_ALGORITHMS.has(signing.getAlgorithmInfo().algorithm)) {
    throw new KeyError(
      'KEY_INCOMPATIBLE',
      `signing key ${path} (${unlocked.info.fingerprint}) signs with a v${unlocked.info.version} ${signing.getAlgorithmInfo().algorithm} key, which GnuPG 2.2 cannot verify`,
    );
  }
  return unlocked;
}

/** Unlock a private key with the first passphrase that fits; a clear KeyError otherwise. */
export async function unlockKey(
  key: openpgp.PrivateKey,
  source: string,
  passphrases: readonly string[],
): Promise<UnlockedKey> {
  const info = describeKey(key);
  if (key.isDecrypted()) return { key, info, source };
  if (passphrases.length === 0) {
    throw new KeyError(
      'PASSPHRASE_REQUIRED',
      `private key ${source} (${info.fingerprint}) is passphrase-protected: give --passphrase-file FILE or set ARK_PASSPHRASE`,
    );
  }
  try {
    const unlocked = await openpgp.decryptKey({ privateKey: key, passphrase: [...passphrases] });
    return { key: unlocked, info, source };
  } catch (error) {
    if (/incorrect key passphrase/i.test(errorText(error))) {
      throw new KeyError('WRONG_PASSPHRASE', `wrong passphrase for private key ${source} (${info.fingerprint})`);
    }
    throw new KeyError(
      'KEY_UNREADABLE',
      `cannot unlock private key ${source} (${info.fingerprint}): ${errorText(error)}`,
      { cause: error },
    );
  }
}

function fingerprintOf(key: openpgp.Key): string {
  return key.getFingerprint().toUpperCase();
}
