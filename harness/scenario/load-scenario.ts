import { readFile, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { UsageError } from '../../lib/errors.ts';
import { parseToml, type TomlSyntaxError } from '../../lib/state/index.ts';
import { scenarioSchema, type Scenario } from './schema.ts';

export const SCENARIO_DIR = resolve(import.meta.dirname, '..', '..', 'scenarios');

/** Parse and validate one scenario file. Invalid → UsageError (exit 2) naming file, field, reason. */
export async function loadScenario(file: string): Promise<Scenario> {
  const name = basename(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${file}: cannot read scenario (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (error) {
    const e = error as TomlSyntaxError;
    throw new UsageError(
      `${name}: not valid TOML${e.line === undefined ? '' : ` (line ${e.line})`}: ${e.reason ?? e.message}`,
    );
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `  - ${i.path.join('.') || '(top level)'}: ${i.message}`)
      .join('\n');
    throw new UsageError(`${name}: invalid scenario:\n${problems}`);
  }
  const id = name.replace(/\.toml$/, '');
  if (parsed.data.id !== undefined && parsed.data.id !== id) {
    throw new UsageError(`${name}: id "${parsed.data.id}" must equal the file name ("${id}")`);
  }
  return { ...parsed.data, id, file: resolve(file) };
}

/**
 * Resolve ids or paths to scenario files and load them all before anything runs; every
 * invalid file is reported together. No selection → every scenarios/*.toml.
 */
export async function loadScenarios(selection: readonly string[] = [], dir = SCENARIO_DIR): Promise<Scenario[]> {
  const files =
    selection.length > 0
      ? selection.map((s) => (s.endsWith('.toml') || s.includes('/') ? resolve(s) : join(dir, `${s}.toml`)))
      : (await readdir(dir))
          .filter((f) => f.endsWith('.toml'))
          .sort()
          .map((f) => join(dir, f));
  const loaded: Scenario[] = [];
  const errors: string[] = [];
  for (const file of files) {
    try {
      loaded.push(await loadScenario(file));
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  if (errors.length > 0) throw new UsageError(`scenario files rejected, nothing was run:\n${errors.join('\n')}`);
  if (loaded.length === 0) throw new UsageError(`no scenario files found in ${dir}`);
  return loaded;
}
