import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as openpgp from 'openpgp';
import { NotFoundError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { fsyncDir, writeFileAtomic } from '../state/index.ts';
import { KeyError } from './crypto-errors.ts';
import { describeKey, type KeyInfo } from './describe-key.ts';
import { generateKeyPair, keyWriteFailed, writeNew, type GeneratedKeyPair } from './generate-key.ts';
import { readKeyFile, recipientFromKey, unlockKey, type RecipientKey, type UnlockedKey } from './read-keys.ts';

// The backup keyring: a folder anyone can read with `ls` and `gpg --import`.
//   <keyring>/current          one line: the fingerprint of the key new backups are encrypted to
//   <keyring>/<FPR>.pub.asc    public key (0644)
//   <keyring>/<FPR>.sec.asc    private key (0600); may be absent (a host that only encrypts)
// Every key that is not current is retired: kept, because older backups are encrypted to it.
// Rotation adds a key and rewrites `current` atomically: the switch is that one rename.

export const CURRENT_FILE = 'current';
const KEY_FILE = /^([0-9A-F]{40})\.(pub|sec)\.asc$/;

export interface KeyringKey extends KeyInfo {
  status: 'current' | 'retired';
  publicFile: string | null;
  secretFile: string | null;
}

export interface Keyring {
  dir: string;
  current: string | null;
  keys: KeyringKey[];
}

export async function readKeyring(dir: string): Promise<Keyring> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new NotFoundError(
      'KEYRING_MISSING',
      `no keyring at ${dir} (${(error as NodeJS.ErrnoException).code}); create one with keys generate --keyring ${dir}`,
      { cause: error },
    );
  }
  const current = await readCurrent(dir);
  const byFingerprint = new Map<string, { pub?: string; sec?: string }>();
  for (const name of names) {
    const m = KEY_FILE.exec(name);
    if (!m) continue;
    const entry = byFingerprint.get(m[1]!) ?? {};
    entry[m[2] as 'pub' | 'sec'] = join(dir, name);
    byFingerprint.set(m[1]!, entry);
  }
  const keys: KeyringKey[] = [];
  for (const [fingerprint, files] of byFingerprint) {
    const key = await readKeyringKey(files.sec ?? files.pub!, fingerprint);
    keys.push({
      ...describeKey(key),
      status: fingerprint === current ? 'current' : 'retired',
      publicFile: files.pub ?? null,
      secretFile: files.sec ?? null,
    });
  }
  keys.sort((a, b) => b.created.localeCompare(a.created) || a.fingerprint.localeCompare(b.fingerprint));
  if (current !== null && !byFingerprint.has(current)) {
    throw new KeyError(
      'KEYRING_INVALID',
      `${join(dir, CURRENT_FILE)} names ${current}, but ${current}.pub.asc is not in the keyring`,
    );
  }
  return { dir, current, keys };
}

/** The current key as a recipient (what encrypted-backup --keyring encrypts to). */
export async function currentRecipient(dir: string): Promise<RecipientKey> {
  const keyring = await readKeyring(dir);
  const entry = keyring.keys.find((k) => k.status === 'current');
  if (!entry) {
    // Key files as `keys generate --out-dir` names them are not a keyring: say what to do with them.
    const plain = (await readdir(dir)).filter((n) => n.endsWith('.pub.asc') && !KEY_FILE.test(n)).sort();
    if (keyring.keys.length === 0 && plain.length > 0)
      throw new KeyError(
        'KEYRING_INVALID',
        `${dir} is not a keyring: it holds key files as keys generate --out-dir writes them (${plain.join(', ')}). Encrypt to one with --recipient ${join(dir, plain[0]!)}, or make a keyring with keys generate --keyring NEW_DIR`,
      );
    throw new KeyError(
      'KEYRING_INVALID',
      keyring.keys.length === 0
        ? `keyring ${dir} holds no key; make one with keys generate --keyring ${dir}`
        : `keyring ${dir} has no current key (${join(dir, CURRENT_FILE)} is missing); run keys rotate --keyring ${dir}`,
    );
  }
  const file = entry.publicFile ?? entry.secretFile!;
  const key = await readKeyringKey(file, entry.fingerprint);
  return recipientFromKey(key.isPrivate() ? key.toPublic() : key, file);
}

/**
 * The keyring's private keys able to open files encrypted to `keyIds`, unlocked with one of
 * `passphrases`. Only the keys needed are unlocked, so a retired key whose passphrase is lost
 * blocks nothing that does not need it.
 */
export async function keyringDecryptionKeys(
  dir: string,
  keyIds: readonly string[],
  passphrases: readonly string[],
): Promise<UnlockedKey[]> {
  const keyring = await readKeyring(dir);
  const needed = keyring.keys.filter((k) => k.secretFile && k.keyIds.some((id) => keyIds.includes(id)));
  const unlocked: UnlockedKey[] = [];
  for (const entry of needed) {
    const key = await readKeyringKey(entry.secretFile!, entry.fingerprint);
    if (key.isPrivate()) unlocked.push(await unlockKey(key, entry.secretFile!, passphrases));
  }
  return unlocked;
}

export interface RotateOptions {
  dir: string;
  userId?: string;
  passphrase?: string;
  now?: () => Date;
  sink?: EventSink;
}

/**
 * Make a new key pair the current one. The old keys stay (they still decrypt older backups);
 * a first rotation on an empty or missing folder creates the keyring.
 */
export async function rotateKeyring(
  options: RotateOptions,
): Promise<{ previous: string | null; pair: GeneratedKeyPair }> {
  const { dir, sink } = options;
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    throw keyWriteFailed(dir, error);
  });
  const previous = (await readKeyring(dir)).current;
  const pair = await generateKeyPair({
    ...(options.userId ? { userId: options.userId } : {}),
    ...(options.passphrase ? { passphrase: options.passphrase } : {}),
    date: (options.now ?? (() => new Date()))(),
  });
  const fingerprint = pair.info.fingerprint;
  const secretFile = join(dir, `${fingerprint}.sec.asc`);
  const publicFile = join(dir, `${fingerprint}.pub.asc`);
  for (const [file, text, mode] of [
    [secretFile, pair.privateKey, 0o600],
    [publicFile, pair.publicKey, 0o644],
  ] as const) {
    await writeNew(file, text, mode).catch((error: unknown) => {
      throw keyWriteFailed(file, error);
    });
  }
  await fsyncDir(dir);
  sink?.({ kind: 'key-written', fingerprint, file: secretFile, secret: true });
  sink?.({ kind: 'key-written', fingerprint, file: publicFile, secret: false });
  await writeFileAtomic(join(dir, CURRENT_FILE), `${fingerprint}\n`);
  sink?.({ kind: 'key-current', fingerprint, previous });
  return { previous, pair };
}

async function readCurrent(dir: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(join(dir, CURRENT_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const fingerprint = text.trim().toUpperCase();
  if (!/^[0-9A-F]{40}$/.test(fingerprint))
    throw new KeyError('KEYRING_INVALID', `${join(dir, CURRENT_FILE)} does not hold a fingerprint (40 hex digits)`);
  return fingerprint;
}

async function readKeyringKey(file: string, fingerprint: string): Promise<openpgp.Key> {
  const keys = await readKeyFile(file, 'keyring key');
  const key = keys.find((k) => k.getFingerprint().toUpperCase() === fingerprint);
  if (!key || keys.length !== 1)
    throw new KeyError('KEYRING_INVALID', `${file} does not hold exactly the key ${fingerprint} its name says`);
  return key;
}
