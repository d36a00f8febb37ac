import { parse } from 'smol-toml';

// One TOML parser for the tool: smol-toml (TOML 1.0, toml-test compliant, ~6x faster than
// @iarna/toml on thousands of state files). The stand-in services (harness/arkalia) keep
// their own parser, as the real services keep Python's.

export type TomlCheck = { ok: true } | { ok: false; reason: string; line?: number; column?: number };

/** A TOML syntax error: the parser's reason on one line, with 1-based line and column. */
export class TomlSyntaxError extends Error {
  readonly reason: string;
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(reason: string, line: number | undefined, column: number | undefined, options?: { cause?: unknown }) {
    super(`${line === undefined ? '' : `line ${line}, column ${column}: `}${reason}`, options);
    this.name = 'TomlSyntaxError';
    this.reason = reason;
    this.line = line;
    this.column = column;
  }
}

/** Parse TOML text; a syntax error is a TomlSyntaxError (never the parser's multi-line code frame). */
export function parseToml(text: string): Record<string, unknown> {
  try {
    return parse(text) as Record<string, unknown>;
  } catch (error) {
    const e = error as Error & { line?: number; column?: number };
    const reason = firstLine(e.message).replace(/^Invalid TOML document: /, '');
    throw new TomlSyntaxError(
      reason,
      typeof e.line === 'number' ? e.line : undefined,
      typeof e.column === 'number' ? e.column : undefined,
      { cause: error },
    );
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Does this file parse as TOML, like Python's `toml.load` at service start? Bytes are decoded
 * strictly (invalid UTF-8 is an error, as TOML requires). Never throws. Parsing replaces the
 * runbook's `python -c "toml.load('$file')"`, which was open to shell injection.
 */
export function validateToml(content: Buffer | string): TomlCheck {
  let text: string;
  try {
    text = typeof content === 'string' ? content : strictUtf8.decode(content);
  } catch {
    return { ok: false, reason: 'not valid UTF-8' };
  }
  try {
    parseToml(text);
    return { ok: true };
  } catch (error) {
    const marker = /^(<{7}|={7}|>{7})( |$)/m.exec(text);
    if (marker) {
      const markerLine = text.slice(0, marker.index).split('\n').length;
      return {
        ok: false,
        reason: `git merge-conflict markers (line ${markerLine}: ${JSON.stringify(firstLine(text.slice(marker.index)))})`,
        line: markerLine,
        column: 1,
      };
    }
    const e = error as TomlSyntaxError;
    return { ok: false, reason: e.message, line: e.line, column: e.column };
  }
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).trim();
}
