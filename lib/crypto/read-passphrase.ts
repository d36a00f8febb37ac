import { readFile, stat } from 'node:fs/promises';
import { KeyError } from './crypto-errors.ts';

// Passphrases come from a file or an environment variable, never from argv (visible in `ps`).

export interface Passphrase {
  value: string;
  /** "file /path" or "env ARK_PASSPHRASE", for messages; never the value. */
  source: string;
  /** Set when the file can be read by group or others. */
  warning?: string;
}

/**
 * The first line of `file` (as `gpg --passphrase-file` reads it), else `envValue`, else undefined.
 * An unreadable or empty file is a KeyError (exit 2): an empty passphrase is never assumed.
 */
export async function resolvePassphrase(options: {
  file?: string;
  envValue?: string;
  envName: string;
  flag: string;
}): Promise<Passphrase | undefined> {
  if (options.file !== undefined) {
    let text: string;
    let mode: number;
    try {
      text = await readFile(options.file, 'utf8');
      mode = (await stat(options.file)).mode;
    } catch (error) {
      throw new KeyError(
        'PASSPHRASE_UNREADABLE',
        `cannot read the passphrase file given to ${options.flag} (${options.file}): ${(error as NodeJS.ErrnoException).code ?? error}`,
        { cause: error },
      );
    }
    const value = text.split('\n')[0]!.replace(/\r$/, '');
    if (value === '')
      throw new KeyError(
        'PASSPHRASE_UNREADABLE',
        `the passphrase file given to ${options.flag} (${options.file}) is empty`,
      );
    const warning =
      (mode & 0o077) !== 0
        ? `passphrase file ${options.file} is readable by other users (mode ${(mode & 0o777).toString(8)}): chmod 600 it`
        : undefined;
    return { value, source: `file ${options.file}`, ...(warning ? { warning } : {}) };
  }
  if (options.envValue !== undefined && options.envValue !== '')
    return { value: options.envValue, source: `env ${options.envName}` };
  return undefined;
}
