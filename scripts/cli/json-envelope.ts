import type { ExitCode } from '../../lib/errors.ts';

// The one --json contract of every command: an envelope, the same keys whatever the command,
// and one naming style (snake_case) all the way down, whatever the pipeline's own names.
//
//   { "ok": true, "exit_code": 0, "command": "full-backup", "duration_ms": 812,
//     "policy": "built-in", "error": null, "result": { ... } }
//
// `error` is set when the command stopped on an error (then `result` is null); a command that
// ran to its end with problems (exit 3: an invalid state file archived) has `error: null` and
// names them in `result`. `policy` is where the policy came from ("built-in" or its file),
// null for a command that reads none.

export interface JsonEnvelope {
  ok: boolean;
  exit_code: ExitCode;
  command: string;
  duration_ms: number;
  policy: string | null;
  error: ({ code: string; message: string } & Record<string, unknown>) | null;
  result: Record<string, unknown> | null;
}

export function jsonEnvelope(input: {
  exitCode: ExitCode;
  command: string;
  durationMs: number;
  policy?: string | null;
  error?: { code: string; message: string } & Record<string, unknown>;
  result?: Record<string, unknown> | null;
}): JsonEnvelope {
  return {
    ok: input.exitCode === 0,
    exit_code: input.exitCode,
    command: input.command,
    duration_ms: Math.round(input.durationMs),
    policy: input.policy ?? null,
    error: input.error ? (snakeKeys(input.error) as JsonEnvelope['error']) : null,
    result: input.result ? (snakeKeys(input.result) as Record<string, unknown>) : null,
  };
}

/** A lowerCamelCase identifier (dryRun, backupSha256): a name, not data (paths, fingerprints, container names stay). */
const CAMEL = /^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+$/;

/** Keys of plain objects, at every depth, from lowerCamelCase to snake_case; dates as ISO strings. */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => [
        CAMEL.test(key) ? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : key,
        snakeKeys(v),
      ]),
    );
  }
  return value;
}

/** Every key, at every depth, that is not snake_case (for the shape tests). */
export function nonSnakeKeys(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => nonSnakeKeys(v, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => [
    ...(CAMEL.test(key) ? [`${path}.${key}`] : []),
    ...nonSnakeKeys(v, `${path}.${key}`),
  ]);
}
