import * as openpgp from 'openpgp';

/** A detached, armored OpenPGP signature over the exact bytes (`gpg --verify sig file` checks it). */
export async function signDetached(bytes: Uint8Array, key: openpgp.PrivateKey): Promise<string> {
  const message = await openpgp.createMessage({ binary: bytes });
  return openpgp.sign({ message, signingKeys: key, detached: true, format: 'armored' });
}

/** Whether `signatureArmored` is a valid detached signature of `bytes` by `publicArmored`'s key; never throws. */
export async function verifyDetached(
  bytes: Uint8Array,
  signatureArmored: string,
  publicArmored: string,
): Promise<{ ok: boolean; fingerprint: string | null; reason: string | null }> {
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
