import TOML from '@iarna/toml';

export type TomlCheck = { ok: true } | { ok: false; reason: string; line?: number; column?: number };

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
    TOML.parse(text);
    return { ok: true };
  } catch (error) {
    const e = error as Error & { line?: number; col?: number };
    const line = typeof e.line === 'number' ? e.line + 1 : undefined;
    const column = typeof e.col === 'number' ? e.col + 1 : undefined;
    const where = line === undefined ? '' : `line ${line}, column ${column}: `;
    const marker = /^(<{7}|={7}|>{7})( |$)/m.exec(text);
    if (marker) {
      const markerLine = text.slice(0, marker.index).split('\n').length;
      return { ok: false, reason: `git merge-conflict markers (line ${markerLine}: ${JSON.stringify(firstLine(text.slice(marker.index)))})`, line: markerLine, column: 1 };
    }
    return { ok: false, reason: `${where}${firstLine(e.message).replace(/ at row \d+, col \d+, pos \d+:?$/, '')}`, line, column };
  }
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).trim();
}
