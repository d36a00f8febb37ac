import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { ArkError, UsageError } from '../errors.ts';
import { fsyncDir } from '../state/index.ts';
import { describeKey, type KeyInfo } from './describe-key.ts';
import { KEYGEN_CONFIG } from './openpgp-config.ts';

// A backup key pair: v4 ed25519 primary (certify/sign) + cv25519 (ECDH) encryption subkey,
// the newest key type GnuPG 2.2 reads (`gpg --quick-generate-key ... future-default`). No expiry:
// rotation is the monthly checklist item, done by keys.mts rotate.

export const DEFAULT_USER_ID = 'Arkalia-LUNA backup <arkalia-backup@system.local>';

export interface GeneratedKeyPair {
  publicKey: string;
  /** Armored, locked with the passphrase when one was given. */
  privateKey: string;
  info: KeyInfo;
  /** The new key, unlocked, for immediate use (e.g. verifying a re-encryption). */
  unlocked: openpgp.PrivateKey;
}

/** "Name <email>", "<email>", "email" or "Name". */
export function parseUserId(text: string): openpgp.UserID {
  const trimmed = text.trim();
  const m = /^(.*?)\s*<([^<>\s]+@[^<>\s]+)>$/.exec(trimmed);
  if (m) return { ...(m[1] ? { name: m[1] } : {}), email: m[2]! };
  if (/^[^\s<>]+@[^\s<>]+$/.test(trimmed)) return { email: trimmed };
  if (trimmed === '' || /[<>]/.test(trimmed))
    throw new UsageError(`user id ${JSON.stringify(text)} is not "Name <email>", "email" or "Name"`);
  return { name: trimmed };
}

export async function generateKeyPair(
  options: { userId?: string; passphrase?: string; date?: Date } = {},
): Promise<GeneratedKeyPair> {
  const userIDs = [parseUserId(options.userId ?? DEFAULT_USER_ID)];
  const date = options.date ?? new Date();
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy',
    userIDs,
    date,
    format: 'object',
    config: KEYGEN_CONFIG,
  });
  const locked = options.passphrase
    ? await openpgp.encryptKey({ privateKey, passphrase: options.passphrase })
    : privateKey;
  return {
    publicKey: privateKey.toPublic().armor(),
    privateKey: locked.armor(),
    info: describeKey(locked),
    unlocked: privateKey,
  };
}

/**
 * Write `<dir>/<name>.pub.asc` (0644) and `<dir>/<name>.sec.asc` (0600), durably. Refuses to
 * overwrite either: a key file is never replaced (it may be the only way to old backups).
 */
export async function writeKeyPair(
  dir: string,
  name: string,
  pair: Pick<GeneratedKeyPair, 'publicKey' | 'privateKey'>,
): Promise<{ publicFile: string; secretFile: string }> {
  const publicFile = join(dir, `${name}.pub.asc`);
  const secretFile = join(dir, `${name}.sec.asc`);
  for (const file of [publicFile, secretFile]) {
    if (
      await stat(file).then(
        () => true,
        () => false,
      )
    )
      throw new ArkError(
        'KEY_EXISTS',
        `${file} already exists; refusing to overwrite a key (choose another --name or folder)`,
      );
  }
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeNew(secretFile, pair.privateKey, 0o600);
  } catch (error) {
    throw keyWriteFailed(secretFile, error);
  }
  try {
    await writeNew(publicFile, pair.publicKey, 0o644);
  } catch (error) {
    await rm(secretFile, { force: true });
    throw keyWriteFailed(publicFile, error);
  }
  await fsyncDir(dir);
  return { publicFile, secretFile };
}

export function keyWriteFailed(file: string, error: unknown): ArkError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EEXIST')
    return new ArkError('KEY_EXISTS', `${file} already exists; refusing to overwrite a key`, { cause: error });
  return new ArkError('KEY_WRITE_FAILED', `cannot write ${file}: ${code ?? String(error)}`, { cause: error });
}

/** Create (never replace) a file with exactly `mode`, whatever the umask, and fsync it. */
export async function writeNew(path: string, text: string, mode: number): Promise<void> {
  const handle = await open(path, 'wx', mode);
  try {
    await handle.chmod(mode);
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}
