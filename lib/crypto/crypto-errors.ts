import { ArkError, IntegrityError, type ArkErrorOptions } from '../errors.ts';

// The two ways encryption fails for an operator: the key material given does not fit (fix
// the command: exit 2), or the encrypted file does not verify (exit 3). Messages name the
// file and the key IDs, never a passphrase or secret key material.

export type KeyErrorCode =
  | 'KEY_UNREADABLE'
  | 'NOT_A_KEY'
  | 'PUBLIC_KEY_GIVEN'
  | 'PRIVATE_KEY_AS_RECIPIENT'
  | 'KEY_INCOMPATIBLE'
  | 'KEY_NO_ENCRYPTION_SUBKEY'
  | 'KEY_NO_SIGNING_KEY'
  | 'MULTIPLE_KEYS'
  | 'WRONG_KEY'
  | 'WRONG_PASSPHRASE'
  | 'PASSPHRASE_REQUIRED'
  | 'PASSPHRASE_UNREADABLE'
  | 'KEYRING_INVALID';

/** The key file or passphrase given cannot do the job asked. Exit 2: fix the command line. */
export class KeyError extends ArkError {
  constructor(code: KeyErrorCode, message: string, options: Omit<ArkErrorOptions, 'exitCode'> = {}) {
    super(code, message, { ...options, exitCode: 2 });
  }
}

export type CiphertextErrorCode =
  | 'NOT_OPENPGP'
  | 'NOT_ENCRYPTED'
  | 'CIPHERTEXT_TRUNCATED'
  | 'CIPHERTEXT_CORRUPT'
  | 'CIPHERTEXT_UNSUPPORTED'
  | 'RECIPIENTS_MISMATCH'
  | 'PLAINTEXT_MISMATCH'
  | 'SIGNATURE_INVALID';

/** The encrypted file (or what it decrypts to) does not verify. Exit 3. */
export class CiphertextError extends IntegrityError {
  constructor(code: CiphertextErrorCode, message: string, options: Omit<ArkErrorOptions, 'exitCode'> = {}) {
    super(code, message, options);
  }
}

/** Node I/O errors (ENOSPC, EACCES...) keep their meaning: they are not the ciphertext's fault. */
export function isIoError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
