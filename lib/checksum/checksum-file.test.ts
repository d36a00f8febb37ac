import { describe, expect, it } from 'vitest';
import { formatChecksumFile, parseChecksumFile } from './checksum-file.ts';

// The sha256sum line format, byte for byte, in-process: what we write, what we accept, and
// what we refuse (by line number, with the start of the line) rather than read wrongly.

const A = 'a'.repeat(64);
const B = '0123456789abcdef'.repeat(4);

const malformed = (text: string, fileName?: string) => {
  try {
    parseChecksumFile(text, fileName);
  } catch (error) {
    return error as Error & { code?: string; exitCode?: number };
  }
  throw new Error('parsed');
};

describe('formatChecksumFile', () => {
  it('writes "<sha256>  <name>" lines, a plain name as it is', () => {
    expect(
      formatChecksumFile([
        { sha256: A, name: 'a.tar.gz' },
        { sha256: B, name: 'b c.tar.gz' },
      ]),
    ).toBe(`${A}  a.tar.gz\n${B}  b c.tar.gz\n`);
    expect(formatChecksumFile([])).toBe('');
  });

  it('escapes a backslash or newline in a name as coreutils does, with a leading backslash', () => {
    expect(formatChecksumFile([{ sha256: A, name: 'a\\b\nc' }])).toBe(`\\${A}  a\\\\b\\nc\n`);
    expect(formatChecksumFile([{ sha256: A, name: 'tab\there' }])).toBe(`${A}  tab\there\n`);
  });
});

describe('parseChecksumFile', () => {
  it('reads text and binary mode lines, upper-case hex as lower-case, CRLF endings and blank lines', () => {
    const text = `${A.toUpperCase()}  a.tar.gz\r\n\n   \n\t\n${B} *b.tar.gz\r\n`;
    expect(parseChecksumFile(text)).toEqual([
      { sha256: A, name: 'a.tar.gz' },
      { sha256: B, name: 'b.tar.gz' },
    ]);
    expect(parseChecksumFile(`${A}   lead space.gz\n`)).toEqual([{ sha256: A, name: ' lead space.gz' }]);
  });

  it('unescapes an escaped line, and leaves a backslash in an unescaped line alone', () => {
    expect(parseChecksumFile(`\\${A}  a\\\\b\\nc\n`)).toEqual([{ sha256: A, name: 'a\\b\nc' }]);
    expect(parseChecksumFile(`${A}  a\\nb\n`)).toEqual([{ sha256: A, name: 'a\\nb' }]);
  });

  it('refuses a line that is not one, by file name and line number, code CHECKSUM_FILE_MALFORMED', () => {
    const error = malformed(`${A}  ok\n\nnot a checksum\n`, 'c.sha256');
    expect(error).toMatchObject({
      code: 'CHECKSUM_FILE_MALFORMED',
      exitCode: 3,
      message: 'c.sha256: line 3 is not in sha256sum format: "not a checksum"',
    });
    expect(malformed('nope\n').message).toBe('checksum file: line 1 is not in sha256sum format: "nope"');
  });

  it('quotes only the first 80 characters of a long bad line', () => {
    const line = `${'x'.repeat(100)}  name`;
    expect(malformed(line).message).toBe(`checksum file: line 1 is not in sha256sum format: "${'x'.repeat(80)}"`);
  });

  it('never reads a hash out of a longer or prefixed field', () => {
    for (const bad of [
      `${A}a  name`, // 65 hex digits
      `x${A}  name`,
      ` ${A}  name`,
      `${A.slice(1)}  name`, // 63
      `${A} name`, // one separator only before the name
      `${A}  `, // no name
    ]) {
      expect(malformed(bad).code).toBe('CHECKSUM_FILE_MALFORMED');
    }
  });

  it('never cuts a name short at a line-separator character (only a final CR is a line ending)', () => {
    for (const bad of [`${A}  odd\rname`, `${A}  odd\u2028name`, `${A}  name\r\r`]) {
      expect(malformed(bad).message).toMatch(/^checksum file: line 1 is not in sha256sum format/);
    }
  });
});
