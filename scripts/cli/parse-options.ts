import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import { UsageError } from '../../lib/errors.ts';

// Flags every operator script shares. Secrets never come from argv (files or env only).

export const COMMON_OPTIONS = {
  root: { type: 'string' },
  'backup-dir': { type: 'string' },
  policy: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export const COMMON_HELP = `Common options:
  --root DIR         Arkalia root (env ARK_ROOT; default: current folder)
  --backup-dir DIR   backup folder holding daily/ (env ARK_BACKUP_DIR; default: /backup)
  --policy FILE      policy file (default: <root>/ark.policy.toml if present, else built-in)
  --json             print only a JSON result on stdout (human messages go to stderr)
  -h, --help         show this help

Exit codes: 0 ok, 1 failed, 2 usage error, 3 integrity problem (checksum, invalid TOML).`;

export interface CommonOptions {
  root: string;
  backupDir: string;
  policyFile?: string;
  json: boolean;
  help: boolean;
}

/** parseArgs, but an unknown flag or a missing value is a UsageError (exit 2), not a stack trace. */
export function parseOptions<O extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...options }, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, '')} (see --help)`, {
      cause: error,
    });
  }
}

/** Where loadPolicy looks: --policy when given, else <root>/ark.policy.toml, else the built-in policy. */
export function policyLocation(common: Pick<CommonOptions, 'root' | 'policyFile'>): { root: string; file?: string } {
  return common.policyFile ? { root: common.root, file: common.policyFile } : { root: common.root };
}

export function commonOptions(
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): CommonOptions {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const policy = str(values.policy);
  return {
    root: resolve(cwd, str(values.root) ?? str(env.ARK_ROOT) ?? '.'),
    backupDir: resolve(cwd, str(values['backup-dir']) ?? str(env.ARK_BACKUP_DIR) ?? '/backup'),
    ...(policy ? { policyFile: resolve(cwd, policy) } : {}),
    json: values.json === true,
    help: values.help === true,
  };
}
