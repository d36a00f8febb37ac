import { link, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingSink } from '../events.ts';
import { ProgressReporter } from '../progress.ts';
import { tempDir } from '../testing.ts';
import { formatChecksumFile } from './checksum-file.ts';
import { sha256Buffer } from './hash-stream.ts';
import { assertChecksumsOk, type ChecksumResult, verifyChecksums } from './verify-checksums.ts';

// `sha256sum -c` in-process: the words of each refusal, a listed file that is not a file,
// the inode cache shared across recovery points (right after a rewrite, read once when linked),
// and the one error naming every failed file.

async function folder(files: Record<string, string>, listed: Record<string, string> = files): Promise<string> {
  const dir = await tempDir('ark-vc-');
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  const entries = Object.entries(listed).map(([name, content]) => ({ name, sha256: sha256Buffer(content) }));
  await writeFile(join(dir, 's.sha256'), formatChecksumFile(entries));
  return dir;
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('resolved');
    },
    (error: unknown) => error as Error & { code?: string; cause?: unknown },
  );

describe('verifyChecksums refusals', () => {
  it('a checksum file that cannot be read: CHECKSUM_FILE_MISSING, with the path and errno code, the error as cause', async () => {
    const dir = await tempDir('ark-vc-');
    const error = await rejection(verifyChecksums(join(dir, 'nope.sha256')));
    expect(error).toMatchObject({
      code: 'CHECKSUM_FILE_MISSING',
      message: `checksum file ${join(dir, 'nope.sha256')} cannot be read, so nothing it should vouch for can be verified: ENOENT`,
    });
    expect(error.cause).toMatchObject({ code: 'ENOENT' });
  });

  it('an archive asked for that the file does not list: CHECKSUM_NOT_LISTED, in words', async () => {
    const dir = await folder({ 'a.tar.gz': 'alpha' });
    await expect(verifyChecksums(join(dir, 's.sha256'), { only: ['a.tar.gz', 'b.tar.gz'] })).rejects.toMatchObject({
      code: 'CHECKSUM_NOT_LISTED',
      message: 's.sha256 does not list b.tar.gz: refusing to trust an unverified archive',
    });
  });

  it('a name outside the folder: CHECKSUM_FILE_MALFORMED, naming it, absolute or through ..', async () => {
    for (const name of ['/etc/passwd', 'sub/../../x', '..']) {
      const dir = await folder({}, { [name]: 'x' });
      await expect(verifyChecksums(join(dir, 's.sha256'))).rejects.toMatchObject({
        code: 'CHECKSUM_FILE_MALFORMED',
        message: `s.sha256 names a file outside its folder: ${name}`,
      });
    }
  });

  it('a listed name that is a folder is not "missing": its read error is thrown', async () => {
    const dir = await folder({ 'a.tar.gz': 'alpha' }, { 'a.tar.gz': 'alpha', 'sub.tar.gz': 'x' });
    await mkdir(join(dir, 'sub.tar.gz'));
    await expect(verifyChecksums(join(dir, 's.sha256'))).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('verifies a file in a subfolder, and only the names asked for, in the order listed', async () => {
    const dir = await folder({ 'a.tar.gz': 'alpha', 'b.tar.gz': 'beta' });
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'c'), 'gamma');
    await writeFile(
      join(dir, 's.sha256'),
      formatChecksumFile([
        { name: 'b.tar.gz', sha256: sha256Buffer('beta') },
        { name: 'sub/c', sha256: sha256Buffer('gamma') },
        { name: 'a.tar.gz', sha256: sha256Buffer('alpha') },
      ]),
    );
    const results = await verifyChecksums(join(dir, 's.sha256'), { only: ['a.tar.gz', 'b.tar.gz'] });
    expect(results).toEqual([
      { name: 'b.tar.gz', expected: sha256Buffer('beta'), actual: sha256Buffer('beta'), ok: true },
      { name: 'a.tar.gz', expected: sha256Buffer('alpha'), actual: sha256Buffer('alpha'), ok: true },
    ]);
    expect((await verifyChecksums(join(dir, 's.sha256'))).map((r) => [r.name, r.ok])).toEqual([
      ['b.tar.gz', true],
      ['sub/c', true],
      ['a.tar.gz', true],
    ]);
  });
});

describe('verifyChecksums with a shared inode cache', () => {
  it('tells different files apart, and a file rewritten with other bytes of the same size', async () => {
    const dir = await folder({ 'a.tar.gz': 'alpha', 'b.tar.gz': 'bravo' });
    const inodeHashes = new Map<string, string>();
    const sums = join(dir, 's.sha256');
    expect((await verifyChecksums(sums, { inodeHashes })).map((r) => r.ok)).toEqual([true, true]);
    await writeFile(join(dir, 'b.tar.gz'), 'BRAVO');
    const again = await verifyChecksums(sums, { inodeHashes });
    expect(again.map((r) => [r.name, r.ok, r.actual])).toEqual([
      ['a.tar.gz', true, sha256Buffer('alpha')],
      ['b.tar.gz', false, sha256Buffer('BRAVO')],
    ]);
    expect(again[1]).toMatchObject({ problem: 'mismatch', expected: sha256Buffer('bravo') });
  });

  it('reads a file hard-linked into two points once: one "verifying" task, both points verified', async () => {
    const one = await folder({ 'a.tar.gz': 'alpha' });
    const two = await tempDir('ark-vc-');
    await link(join(one, 'a.tar.gz'), join(two, 'a.tar.gz'));
    await writeFile(join(two, 's.sha256'), formatChecksumFile([{ name: 'a.tar.gz', sha256: sha256Buffer('alpha') }]));
    const sink = recordingSink();
    const progress = new ProgressReporter({ sink, totalBytes: 10 });
    const inodeHashes = new Map<string, string>();
    for (const dir of [one, two]) {
      const results = await verifyChecksums(join(dir, 's.sha256'), { inodeHashes, progress });
      expect(results.map((r) => r.ok)).toEqual([true]);
    }
    const tasks = sink.events.flatMap((e) => (e.kind === 'progress' && e.done ? [e.task] : []));
    expect(tasks).toEqual([`hash:${join(one, 'a.tar.gz')}`]);
  });
});

describe('assertChecksumsOk', () => {
  const result = (name: string, ok: boolean, problem?: 'mismatch' | 'missing'): ChecksumResult => ({
    name,
    expected: 'e'.repeat(64),
    actual: problem === 'missing' ? null : ok ? 'e'.repeat(64) : 'f'.repeat(64),
    ok,
    ...(problem ? { problem } : {}),
  });

  it('is quiet when every file is ok', () => {
    expect(assertChecksumsOk([result('a', true), result('b', true)], 's.sha256')).toBeUndefined();
    expect(assertChecksumsOk([], 's.sha256')).toBeUndefined();
  });

  it('names every failed file, and only those, in one CHECKSUM_MISMATCH error', () => {
    let error: (Error & { code?: string; exitCode?: number; details?: unknown }) | undefined;
    try {
      assertChecksumsOk(
        [result('a', true), result('b', false, 'mismatch'), result('c', false, 'missing')],
        '/x/s.sha256',
      );
    } catch (e) {
      error = e as typeof error;
    }
    expect(error).toMatchObject({
      code: 'CHECKSUM_MISMATCH',
      exitCode: 3,
      message: `checksum verification failed (/x/s.sha256):\n  b: sha256 ${'f'.repeat(64)} != expected ${'e'.repeat(64)}\n  c: missing`,
      details: {
        failed: [
          { name: 'b', problem: 'mismatch' },
          { name: 'c', problem: 'missing' },
        ],
      },
    });
  });
});
