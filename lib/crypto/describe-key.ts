import type * as openpgp from 'openpgp';

// What an operator (and `keys.mts list`) needs to know about a key, in GnuPG's vocabulary.

export interface KeyInfo {
  /** 40 upper-case hex digits, as `gpg --list-keys` shows it. */
  fingerprint: string;
  /** The primary key's ID and every subkey's: what encrypted files name. */
  keyIds: string[];
  userIds: string[];
  /** ISO-8601 creation time of the primary key. */
  created: string;
  /** e.g. "ed25519/cv25519" or "rsa3072/rsa3072": primary / newest encryption subkey. */
  algorithm: string;
  version: number;
  hasSecret: boolean;
  /** Whether the secret key material is passphrase-protected; null for a public key. */
  passphraseProtected: boolean | null;
}

export function describeKey(key: openpgp.Key): KeyInfo {
  const subkeys = key.subkeys;
  const primary = algorithmName(key.getAlgorithmInfo());
  const encryption = [...subkeys]
    .reverse()
    .find((s) =>
      ['ecdh', 'rsaEncrypt', 'rsaEncryptSign', 'elgamal', 'x25519', 'x448'].includes(s.getAlgorithmInfo().algorithm),
    );
  const secret = key.isPrivate();
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    keyIds: key.getKeys().map((k) => k.getKeyID().toHex().toUpperCase()),
    userIds: key.getUserIDs(),
    created: key.getCreationTime().toISOString(),
    algorithm: encryption ? `${primary}/${algorithmName(encryption.getAlgorithmInfo())}` : primary,
    version: key.keyPacket.version,
    hasSecret: secret,
    passphraseProtected: secret ? key.getKeys().some((k) => !k.keyPacket.isDecrypted() && !isDummy(k.keyPacket)) : null,
  };
}

function isDummy(packet: object): boolean {
  return 'isDummy' in packet && typeof packet.isDummy === 'function' && (packet as { isDummy(): boolean }).isDummy();
}

const CURVES: Record<string, string> = {
  ed25519Legacy: 'ed25519',
  curve25519Legacy: 'cv25519',
  nistP256: 'nistp256',
  nistP384: 'nistp384',
  nistP521: 'nistp521',
  secp256k1: 'secp256k1',
  brainpoolP256r1: 'brainpoolP256r1',
  brainpoolP384r1: 'brainpoolP384r1',
  brainpoolP512r1: 'brainpoolP512r1',
};

function algorithmName(info: openpgp.AlgorithmInfo): string {
  if (info.algorithm.startsWith('rsa')) return `rsa${info.bits ?? ''}`;
  if (info.algorithm === 'elgamal' || info.algorithm === 'dsa') return `${info.algorithm}${info.bits ?? ''}`;
  if (info.curve) return CURVES[info.curve] ?? info.curve;
  return info.algorithm; // x25519, ed25519 (RFC 9580 algorithms): named as openpgp.js names them
}
