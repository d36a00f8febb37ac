import { KeyError, keyringDecryptionKeys, readPrivateKeys, type UnlockedKey } from '../crypto/index.ts';

// The private keys a disk recovery may use: key files (ours, or exported from GnuPG) and/or a
// keyring folder, unlocked with the passphrases given. Key files are read and unlocked up
// front, so a missing or wrong passphrase fails (exit 2) before anything is downloaded; a
// keyring unlocks only the keys a file is encrypted to. Which key opens which file is decided
// from encrypted_manifest.json's recipients BEFORE the download: a wrong key fails at once
// (it would fail for every backup set alike, and an older set must never be restored silently
// because the key given was the wrong one).

export interface KeySources {
  keyFiles: readonly string[];
  keyring?: string;
  passphrases: readonly string[];
}

export interface DecryptionKeys {
  /** Read and unlock the key files (KeyError: unreadable, not private, passphrase missing or wrong). */
  load(): Promise<UnlockedKey[]>;
  /** The keys that open a file encrypted to `recipients`; KeyError WRONG_KEY when none does. */
  forFile(name: string, recipients: readonly { fingerprint: string; key_id: string }[]): Promise<UnlockedKey[]>;
  /** Every key that was chosen for a file, by fingerprint. */
  readonly used: Map<string, UnlockedKey>;
}

export function decryptionKeys(sources: KeySources): DecryptionKeys {
  let loaded: Promise<UnlockedKey[]> | undefined;
  const used = new Map<string, UnlockedKey>();
  const load = () =>
    (loaded ??= (async () =>
      (
        await Promise.all(sources.keyFiles.map((file) => readPrivateKeys(file, { passphrases: sources.passphrases })))
      ).flat())());
  return {
    load,
    used,
    async forFile(name, recipients) {
      const keyIds = recipients.map((r) => r.key_id.toUpperCase());
      const fromFiles = (await load()).filter((k) => k.info.keyIds.some((id) => keyIds.includes(id)));
      const fromKeyring =
        sources.keyring === undefined ? [] : await keyringDecryptionKeys(sources.keyring, keyIds, sources.passphrases);
      const keys = [...fromFiles, ...fromKeyring];
      if (keys.length === 0) throw wrongKey(name, recipients, await load(), sources.keyring);
      for (const k of keys) used.set(k.info.fingerprint, k);
      return keys;
    },
  };
}

function wrongKey(
  name: string,
  recipients: readonly { fingerprint: string; key_id: string }[],
  given: readonly UnlockedKey[],
  keyring: string | undefined,
): KeyError {
  const to = recipients.map((r) => `${r.fingerprint} (key ID ${r.key_id})`).join(', ') || 'no recorded recipient';
  const have = [
    ...given.map((k) => `${k.source}: ${k.info.fingerprint} (key IDs ${k.info.keyIds.join(', ')})`),
    ...(keyring === undefined ? [] : [`keyring ${keyring}: no private key of those recipients`]),
  ].join('; ');
  return new KeyError(
    'WRONG_KEY',
    `${name} is encrypted to ${to}; the key given is none of them (${have}). Give the private key of one of those recipients (--key FILE, or --keyring DIR).`,
    {
      details: { file: name, encrypted_to: recipients, keys_given: given.map((k) => k.info.fingerprint) },
    },
  );
}
