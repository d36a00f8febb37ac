import { IntegrityError } from '../errors.ts';

// The coreutils `sha256sum` format, so that `sha256sum -c checksums_<DATE>.sha256` works on
// what we write and we read what the runbook's `sha256sum *.tar.gz > ...` wrote.

export interface ChecksumEntry {
  sha256: string;
  name: string;
}

export function formatChecksumFile(entries: readonly ChecksumEntry[]): string {
  return entries
    .map((e) => (needsEscape(e.name) ? `\\${e.sha256}  ${escapeName(e.name)}\n` : `${e.sha256}  ${e.name}\n`))
    .join('');
}

/** Parse `<64 hex><space><space|*><name>` lines. A malformed line is an integrity error. */
export function parseChecksumFile(text: string, fileName = 'checksum file'): ChecksumEntry[] {
  const entries: ChecksumEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const escaped = line.startsWith('\\');
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(escaped ? line.slice(1) : line);
    if (!m) {
      throw new IntegrityError(
        'CHECKSUM_FILE_MALFORMED',
        `${fileName}: line ${index + 1} is not in sha256sum format: ${JSON.stringify(line.slice(0, 80))}`,
      );
    }
    const name = escaped ? unescapeName(m[2]!) : m[2]!;
    entries.push({ sha256: m[1]!.toLowerCase(), name });
  });
  return entries;
}

// coreutils escapes backslash and newline in names and then prefixes the line with "\".
function needsEscape(name: string): boolean {
  return /[\\\n]/.test(name);
}

function escapeName(name: string): string {
  return name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function unescapeName(name: string): string {
  return name.replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : '\\'));
}
