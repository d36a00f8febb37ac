// Compose's variable interpolation, as `docker compose` does it before reading a value:
// $VAR, ${VAR}, ${VAR:-default} (unset or empty), ${VAR-default} (unset), ${VAR:?err} and
// ${VAR?err} (required), and $$ for a literal dollar. Values come from the environment, then
// the project's .env file.

const PATTERN =
  /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*)|(\{[^}]*\}?))/g;

export class InterpolationError extends Error {}

/** One string with its variables replaced; throws InterpolationError for a required variable that is unset, or malformed syntax. */
export function interpolate(text: string, vars: Readonly<Record<string, string | undefined>>): string {
  return text.replace(
    PATTERN,
    (
      match,
      dollar: string | undefined,
      name: string | undefined,
      colon: string,
      op: string,
      arg: string,
      bare: string | undefined,
      bad: string | undefined,
    ) => {
      if (dollar) return '$';
      if (bad !== undefined) throw new InterpolationError(`invalid interpolation format ${JSON.stringify(match)}`);
      if (bare) return vars[bare] ?? '';
      const value = vars[name!];
      const missing = value === undefined || (colon === ':' && value === '');
      if (op === '-') return missing ? interpolate(arg ?? '', vars) : value!;
      if (op === '?') {
        if (missing)
          throw new InterpolationError(`required variable ${name} is missing a value${arg ? `: ${arg}` : ''}`);
        return value!;
      }
      return value ?? '';
    },
  );
}

/** Every string inside a parsed YAML value interpolated (keys are left alone, as compose does). */
export function interpolateDeep(value: unknown, vars: Readonly<Record<string, string | undefined>>): unknown {
  if (typeof value === 'string') return interpolate(value, vars);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, vars));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, vars)]));
  return value;
}
