import * as openpgp from 'openpgp';
import { generateKeyPair, readSigningKey } from '../../lib/crypto/index.ts';

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
    const unlocked = await readSigningKey(file, { passphrases: env.ARK_EVIDENCE_PASSPHRASE ? [env.ARK_EVIDENCE_PASSPHRASE] : [] });
    return { key: unlocked.key, publicArmored: unlocked.key.toPublic().armor(), fingerprint: unlocked.key.getFingerprint().toUpperCase(), oneOff: false };
  }
  const pair = await generateKeyPair({ userId: 'arkalia-dr drill evidence (one-off) <arkalia-dr@localhost>' });
  return { key: pair.unlocked, publicArmored: pair.publicKey, fingerprint: pair.unlocked.getFingerprint().toUpperCase(), oneOff: true };
}

/** A detached, armored OpenPGP signature over the exact bytes (`gpg --verify` checks it). */
export async function signDetached(bytes: Uint8Array, signer: EvidenceSigner): Promise<string> {
  const message = await openpgp.createMessage({ binary: bytes });
  return openpgp.sign({ message, signingKeys: signer.key, detached: true, format: 'armored' });
}

export async function verifyDetached(bytes: Uint8Array, signatureArmored: string, publicArmored: string): Promise<{ ok: boolean; fingerprint: string | null; reason: string | null }> {
  try {
    const [message, signature, key] = await Promise.all([
      openpgp.createMessage({ binary: bytes }),
      openpgp.readSignature({ armoredSignature: signatureArmored }),
      openpgp.readKey({ armoredKey: publicArmored }),
    ]);
    const result = await openpgp.verify({ message, signature, verificationKeys: key, expectSigned: false });
    const first = result.signatures[0];
    if (!first) return { ok: false, fingerprint: null, reason: 'no signature in the signature file' };
    await first.verified;
    return { ok: true, fingerprint: key.getFingerprint().toUpperCase(), reason: null };
  } catch (error) {
    return { ok: false, fingerprint: null, reason: (error as Error).message };
  }
}
