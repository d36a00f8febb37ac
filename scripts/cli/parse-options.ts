import { parseArgs, type ParseArgsConfig } from 'node:util';
import { resolve } from 'node:path';
import { EXIT_CODES, UsageError } from '../../lib/errors.ts';

// Flags every operator script shares. Secrets never come from argv (files or env only).

export const COMMON_OPTIONS = {
  root: { type: 'string' },
  'backup-dir': { type: 'string' },
  policy: { type: 'string' },
  json: { type: 'boolean', default: false },
  quiet: { type: 'boolean', short: 'q', default: false },
  verbose: { type: 'boolean', short: 'v', default: false },
  version: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

export const COMMON_HELP = `Common options:
  --root DIR         Arkalia root (env ARK_ROOT; default: current folder, except for
                     restores, which must be told it)
  --backup-dir DIR   backup folder holding daily/ (env ARK_BACKUP_DIR; default: /backup)
  --policy FILE      policy file (default: <root>/ark.policy.toml if present, else built-in)
  --json             print only a JSON result on stdout (human messages go to stderr)
  -q, --quiet        print only what is wrong (lines marked ⚠ or ✗): for cron and timers
  -v, --verbose      progress off a terminal too, and every file in a dry run
  --version          print arkalia-dr's version
  -h, --help         show this help

Exit codes (the same from every command):
${EXIT_CODES.map((e) => `  ${e.code}  ${e.meaning}`).join('\n')}`;

export interface CommonOptions {
  root: string;
  /** Whether the root was named (--root or ARK_ROOT) rather than taken from the current folder. */
  rootNamed: boolean;
  backupDir: string;
  policyFile?: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  version: boolean;
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
    throw new UsageError(`${usageMessage(error as Error & { code?: string }, allowPositionals)} (see --help)`, {
      cause: error,
    });
  }
}

/**
 * parseArgs' message, in one sentence: Node adds to "Unknown option" a hint with an
 * unbalanced quote when positionals are allowed; it is said here plainly instead.
 */
function usageMessage(error: Error & { code?: string }, allowPositionals: boolean): string {
  const message = error.message.replace(/^TypeError \[[A-Z_]+\]: /, '');
  const unknown = /^Unknown option '([^']*)'/.exec(message);
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    const hint = allowPositionals ? `; an argument that starts with "-" goes after "--", as in: -- ${unknown[1]}` : '';
    return `Unknown option '${unknown[1]}'${hint}`;
  }
  return message;
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
  const named = str(values.root) ?? str(env.ARK_ROOT);
  return {
    root: resolve(cwd, named ?? '.'),
    rootNamed: named !== undefined,
    backupDir: resolve(cwd, str(values['backup-dir']) ?? str(env.ARK_BACKUP_DIR) ?? '/backup'),
    ...(policy ? { policyFile: resolve(cwd, policy) } : {}),
    json: values.json === true,
    quiet: values.quiet === true,
    verbose: values.verbose === true,
    version: values.version === true,
    help: values.help === true,
  };
}

/**
 * A command that writes into the Arkalia root (every restore) must be told which: the current
 * folder is never assumed, so a restore run from the wrong shell does not lay a whole tree there.
 */
export function requireNamedRoot(common: Pick<CommonOptions, 'rootNamed'>, command: string): void {
  if (!common.rootNamed)
    throw new UsageError(
      `${command} writes into the Arkalia root: name it with --root DIR (or env ARK_ROOT), for example --root /srv/arkalia-luna-pro; the current folder is never assumed`,
    );
}
