import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import { parseToml, TomlSyntaxError, validateToml, writeFileAtomic } from './index.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';

const fixtures = SAMPLE_ROOT;

describe('validateToml', () => {
  it('accepts the valid fixture states and rejects the two real conflict-marker files', async () => {
    expect(validateToml(await readFile(join(fixtures, 'modules/zeroia/state/zeroia_state.toml')))).toEqual({
      ok: true,
    });
    for (const bad of ['state/global_context.toml', 'state/reflexia_state.toml']) {
      const check = validateToml(await readFile(join(fixtures, bad)));
      expect(check.ok, bad).toBe(false);
      if (!check.ok) {
        expect(check.reason).toMatch(/conflict markers/);
        expect(check.line).toBeGreaterThan(0);
      }
    }
  });

  it('rejects invalid UTF-8, truncation and garbage, and accepts an empty file', () => {
    expect(validateToml(Buffer.from([0x61, 0x20, 0x3d, 0x20, 0x22, 0xff, 0xfe, 0x22]))).toEqual({
      ok: false,
      reason: 'not valid UTF-8',
    });
    expect(validateToml('[decision]\nlast_decision = "red').ok).toBe(false);
    expect(validateToml('invalid toml content {[}').ok).toBe(false);
    expect(validateToml('').ok).toBe(true); // an empty document is valid TOML; emptiness is a separate check
  });

  it('says where a file breaks: 1-based line and column, the reason on one line (no code frame)', () => {
    const check = validateToml('[decision]\nscore = 1\nscore = 2\n');
    expect(check).toMatchObject({ ok: false, line: 3, column: 1 });
    if (!check.ok) expect(check.reason).toMatch(/^line 3, column 1: .*redefine/);
    if (!check.ok) expect(check.reason).not.toContain('\n');
  });
});

describe('parseToml', () => {
  it('returns the document, and throws a TomlSyntaxError with line, column and a one-line reason', () => {
    expect(parseToml('[a]\nb = [1, 2]\n')).toEqual({ a: { b: [1, 2] } });
    let error: unknown;
    try {
      parseToml('a = 1\nb = \n');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TomlSyntaxError);
    expect(error).toMatchObject({
      line: 2,
      column: 5,
      reason: 'invalid value',
      message: 'line 2, column 5: invalid value',
    });
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp file behind', async () => {
    const dir = await tempDir('ark-atomic-');
    const file = join(dir, 's.toml');
    await writeFile(file, 'old = 1\n');
    await writeFileAtomic(file, 'new = 2\n', { mode: 0o600 });
    expect(await readFile(file, 'utf8')).toBe('new = 2\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['s.toml']);
  });

  it('leaves the old file untouched when the directory is gone', async () => {
    const dir = await tempDir('ark-atomic-');
    await expect(writeFileAtomic(join(dir, 'missing', 'x.toml'), 'a = 1')).rejects.toThrow(/ENOENT/);
  });
});
