import type * as openpgp from 'openpgp';
import { generateKeyPair, readSigningKey, signDetached as signBytes } from '../../lib/crypto/index.ts';

export interface EvidenceSigner {
  key: openpgp.PrivateKey;
  publicArmored: string;
  fingerprint: string;
  /** True when no ARK_EVIDENCE_KEY was given and a one-off key was made for this run. */
  oneOff: boolean;
}

/** ARK_EVIDENCE_KEY (armored private key file; passphrase in ARK_EVIDENCE_PASSPHRASE), else a one-off key. */
export async function evidenceSigner(env: NodeJS.ProcessEnv = process.env): Promise<EvidenceSigner> {
  const file = env.ARK_EVIDENCE_KEY;
  if (file) {
    const unlocked = await readSigningKey(file, {
      passphrases: env.ARK_EVIDENCE_PASSPHRASE ? [env.ARK_EVIDENCE_PASSPHRASE] : [],
    });
    return {
      key: unlocked.key,
      publicArmored: unlocked.key.toPublic().armor(),
      fingerprint: unlocked.key.getFingerprint().toUpperCase(),
      oneOff: false,
    };
  }
  const pair = await generateKeyPair({ userId: 'arkalia-dr drill evidence (one-off) <arkalia-dr@localhost>' });
  return {
    key: pair.unlocked,
    publicArmored: pair.publicKey,
    fingerprint: pair.unlocked.getFingerprint().toUpperCase(),
    oneOff: true,
  };
}

/** A detached, armored OpenPGP signature over the exact bytes (`gpg --verify` checks it). */
export function signDetached(bytes: Uint8Array, signer: EvidenceSigner): Promise<string> {
  return signBytes(bytes, signer.key);
}
