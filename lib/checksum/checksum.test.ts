import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import {
  assertChecksumsOk,
  formatChecksumFile,
  parseChecksumFile,
  sha256Buffer,
  sha256File,
  verifyChecksums,
} from './index.ts';

const run = promisify(execFile);

async function folder(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('ark-sum-');
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

describe('checksum files', () => {
  it('writes what GNU sha256sum -c accepts, and reads what sha256sum writes', async () => {
    const dir = await folder({ 'a.tar.gz': 'alpha', 'b c.tar.gz': 'beta' });
    const entries = [
      { name: 'a.tar.gz', sha256: sha256Buffer('alpha') },
      { name: 'b c.tar.gz', sha256: (await sha256File(join(dir, 'b c.tar.gz'))).sha256 },
    ];
    await writeFile(join(dir, 'sums.sha256'), formatChecksumFile(entries));
    const { stdout } = await run('sha256sum', ['-c', 'sums.sha256'], { cwd: dir });
    expect(stdout).toContain('a.tar.gz: OK');
    const gnu = (await run('sha256sum', ['a.tar.gz', 'b c.tar.gz'], { cwd: dir })).stdout;
    expect(parseChecksumFile(gnu)).toEqual(entries);
    expect(parseChecksumFile(`${sha256Buffer('x')} *bin.gz\n`)).toEqual([
      { sha256: sha256Buffer('x'), name: 'bin.gz' },
    ]);
  });

  it('round-trips names with a newline or backslash the way coreutils escapes them', () => {
    const entries = [{ name: 'odd\nname\\x', sha256: sha256Buffer('') }];
    expect(formatChecksumFile(entries).startsWith('\\')).toBe(true);
    expect(parseChecksumFile(formatChecksumFile(entries))).toEqual(entries);
  });

  it('rejects a malformed line by its number', () => {
    expect(() => parseChecksumFile(`${sha256Buffer('x')}  ok\nnot a checksum\n`, 'c.sha256')).toThrow(
      /c\.sha256: line 2/,
    );
  });

  it('verifies, and names mismatched, missing and unlisted files', async () => {
    const dir = await folder({ 'a.tar.gz': 'alpha', 'b.tar.gz': 'tampered' });
    await writeFile(
      join(dir, 's.sha256'),
      formatChecksumFile([
        { name: 'a.tar.gz', sha256: sha256Buffer('alpha') },
        { name: 'b.tar.gz', sha256: sha256Buffer('beta') },
        { name: 'gone.tar.gz', sha256: sha256Buffer('z') },
      ]),
    );
    const results = await verifyChecksums(join(dir, 's.sha256'));
    expect(results.map((r) => [r.name, r.ok, r.problem])).toEqual([
      ['a.tar.gz', true, undefined],
      ['b.tar.gz', false, 'mismatch'],
      ['gone.tar.gz', false, 'missing'],
    ]);
    expect(() => assertChecksumsOk(results, 's.sha256')).toThrow(
      /b\.tar\.gz: sha256 .* != expected[\s\S]*gone\.tar\.gz: missing/,
    );
    expect(await verifyChecksums(join(dir, 's.sha256'), { only: ['a.tar.gz'] })).toHaveLength(1);
    await expect(verifyChecksums(join(dir, 's.sha256'), { only: ['c.tar.gz'] })).rejects.toMatchObject({
      code: 'CHECKSUM_NOT_LISTED',
      exitCode: 3,
    });
    await expect(verifyChecksums(join(dir, 'nope.sha256'))).rejects.toMatchObject({
      code: 'CHECKSUM_FILE_MISSING',
      exitCode: 3,
    });
  });

  it('refuses a checksum file that points outside its folder', async () => {
    const dir = await folder({});
    await writeFile(join(dir, 's.sha256'), `${sha256Buffer('x')}  ../etc/passwd\n`);
    await expect(verifyChecksums(join(dir, 's.sha256'))).rejects.toMatchObject({ code: 'CHECKSUM_FILE_MALFORMED' });
  });
});
