import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { EXIT, EXIT_CODES } from '../../lib/errors.ts';

// One exit-code table: lib/errors.ts. README's must say the same, code for code.

describe('the exit-code table', () => {
  it("README's table is lib/errors.ts EXIT_CODES, one row per code, 0 to 4", async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Exit codes'));
    const rows = [...section.slice(0, section.indexOf('\n###')).matchAll(/^\| (\d) \| (.+) \|$/gm)].map((m) => ({
      code: Number(m[1]),
      meaning: m[2],
    }));
    expect(rows).toEqual(EXIT_CODES.map((e) => ({ code: e.code, meaning: e.meaning })));
    expect(EXIT_CODES.map((e) => [e.name, e.code])).toEqual(Object.entries(EXIT));
  });
});
