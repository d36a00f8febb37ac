import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PolicyError } from '../errors.ts';
import { parseToml, type TomlSyntaxError } from '../state/index.ts';
import { DEFAULT_POLICY } from './default-policy.ts';
import { policySchema, type Policy } from './schema.ts';

export const POLICY_FILE_NAME = 'ark.policy.toml';

export interface LoadedPolicy {
  policy: Readonly<Policy>;
  /** 'built-in', or the path of the file that overrode it. */
  source: string;
}

/**
 * The built-in policy, overridden by `--policy FILE` if given, else by `<root>/ark.policy.toml`
 * if present. Tables merge key by key; arrays and scalars replace. Invalid → PolicyError (exit 2)
 * naming the file, the field and the reason.
 */
export async function loadPolicy(options: { root: string; file?: string }): Promise<LoadedPolicy> {
  const explicit = options.file !== undefined;
  const path = options.file ?? join(options.root, POLICY_FILE_NAME);
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (explicit || code !== 'ENOENT') {
      throw new PolicyError(`cannot read policy file ${path}: ${code ?? String(error)}`, { cause: error });
    }
  }
  if (text === undefined) return { policy: resolvePolicy({}, 'built-in'), source: 'built-in' };
  let override: unknown;
  try {
    override = parseToml(text);
  } catch (error) {
    const e = error as TomlSyntaxError;
    const where = e.line === undefined ? '' : ` (line ${e.line}, column ${e.column})`;
    throw new PolicyError(`${path}: not valid TOML${where}: ${e.reason ?? firstLine(e.message)}`, { cause: error });
  }
  return { policy: resolvePolicy(override, path), source: path };
}

/** Pure: merge an override object over the defaults, validate, freeze. */
export function resolvePolicy(override: unknown, sourceName: string): Readonly<Policy> {
  const merged = deepMerge(DEFAULT_POLICY, override);
  const parsed = policySchema.safeParse(merged);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  - ${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    );
    throw new PolicyError(`${sourceName}: invalid policy:\n${problems.join('\n')}`, {
      details: { issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    });
  }
  return deepFreeze(parsed.data);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function deepMerge(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = deepMerge(base[key], value);
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
