import { execFile } from 'node:child_process';
import { chmod, link, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { tempDir, treeContents } from '../testing.ts';
import { ExtractBudget, extractArchive } from './index.ts';
import { gzipBomb, paxEntry, tarEntry, tarGz } from './testing.ts';

// Hostile archives of every kind, valid checksums or not: nothing may land outside the target.
// Each test extracts into <jail>/target beside an empty <jail>/outside, then proves that the
// jail holds nothing but what the target should, that outside/ is empty and /etc/passwd intact.

const run = promisify(execFile);
let passwd: string;
beforeAll(async () => {
  passwd = sha256Buffer(await readFile('/etc/passwd'));
});

async function jail() {
  const base = await tempDir('ark-jail-');
  const target = join(base, 'target');
  const outside = join(base, 'outside');
  await mkdir(target);
  await mkdir(outside);
  return { base, target, outside };
}

async function nothingOutside(j: { base: string; outside: string }): Promise<void> {
  expect((await readdir(j.base)).sort()).toEqual(['outside', 'target']);
  expect(await readdir(j.outside)).toEqual([]);
  expect(sha256Buffer(await readFile('/etc/passwd'))).toBe(passwd);
}

async function archiveFile(bytes: Buffer): Promise<string> {
  const file = join(await tempDir('ark-hostile-'), 'states.tar.gz');
  await writeFile(file, bytes);
  return file;
}

describe('hostile archives made with GNU tar', () => {
  it('refuses "..", absolute paths, symlinks, hard links and FIFOs by entry name; keeps the safe files; drops setuid', async () => {
    const j = await jail();
    const work = await tempDir('ark-gnu-');
    const src = join(work, 'src');
    await mkdir(join(src, 'a'), { recursive: true });
    await mkdir(join(src, 'b'));
    await writeFile(join(src, 'a', 'ok.toml'), 'ok = true\n');
    await chmod(join(src, 'a', 'ok.toml'), 0o4755);
    await symlink('/etc/passwd', join(src, 'a', 'passwd-link'));
    await symlink(j.outside, join(src, 'a', 'outside-link'));
    await link(join(src, 'a', 'ok.toml'), join(src, 'b', 'hard')); // archived after a/: stored as a Link entry
    await run('mkfifo', [join(src, 'a', 'fifo')]);
    await writeFile(join(work, 'dotdot.toml'), 'evil = 1\n');
    // An absolute member that points into outside/: archived from there, then removed, so
    // that outside/ must still be empty after the extraction.
    const absolute = join(j.outside, 'absolute.toml');
    await writeFile(absolute, 'absolute = 1\n');
    const out = join(work, 'hostile.tar.gz');
    // -P keeps what GNU tar would otherwise strip: the leading "/" and the "../".
    await run('tar', ['-czf', out, '-P', '-C', src, 'a', 'b', '../dotdot.toml', absolute]);
    await rm(absolute);

    const { extracted, refused } = await extractArchive({ file: out, cwd: j.target });
    expect(extracted.sort()).toEqual(['a/', 'a/ok.toml', 'b/']);
    expect(Object.fromEntries(refused.map((r) => [r.entry, r.reason]))).toEqual({
      'a/passwd-link': 'entry type SymbolicLink is not restored',
      'a/outside-link': 'entry type SymbolicLink is not restored',
      'b/hard': 'entry type Link is not restored',
      'a/fifo': 'entry type FIFO is not restored',
      '../dotdot.toml': 'path escapes the target ("..")',
      [absolute]: 'absolute path',
    });
    expect((await stat(join(j.target, 'a', 'ok.toml'))).mode & 0o7777).toBe(0o755);
    await nothingOutside(j);
  });
});

describe('hostile archives GNU tar will not write (hand-made headers)', () => {
  it('refuses a hard link to /etc/passwd, devices, FIFOs, pax renames out of the target, and writes a file "through" a refused symlink inside', async () => {
    const j = await jail();
    const file = await archiveFile(
      tarGz([
        tarEntry({ name: 'etc-passwd', type: '1', linkname: '/etc/passwd' }),
        tarEntry({ name: 'rel-link', type: '1', linkname: '../outside/x' }),
        tarEntry({ name: 'null', type: '3', devmajor: 1, devminor: 3, mode: 0o666 }),
        tarEntry({ name: 'sda', type: '4', devmajor: 8, devminor: 0 }),
        tarEntry({ name: 'pipe', type: '6' }),
        tarEntry({ name: 'esc', type: '2', linkname: j.outside }),
        tarEntry({ name: 'esc/pwned.toml', type: '0', data: Buffer.from('pwned = true\n') }),
        paxEntry({ path: '../outside/pax.toml' }),
        tarEntry({ name: 'innocent.toml', type: '0', data: Buffer.from('x = 1\n') }),
        paxEntry({ path: join(j.outside, 'pax-absolute.toml') }),
        tarEntry({ name: 'innocent2.toml', type: '0', data: Buffer.from('x = 2\n') }),
        tarEntry({ name: 'x/../../outside/dots.toml', type: '0', data: Buffer.from('d = 1\n') }),
        tarEntry({ name: 'setuid.toml', type: '0', mode: 0o6777, data: Buffer.from('s = 1\n') }),
      ]),
    );
    const { extracted, refused } = await extractArchive({ file, cwd: j.target });
    expect(extracted.sort()).toEqual(['esc/pwned.toml', 'setuid.toml']);
    expect(Object.fromEntries(refused.map((r) => [r.entry, r.reason]))).toEqual({
      'etc-passwd': 'entry type Link is not restored',
      'rel-link': 'entry type Link is not restored',
      null: 'entry type CharacterDevice is not restored',
      sda: 'entry type BlockDevice is not restored',
      pipe: 'entry type FIFO is not restored',
      esc: 'entry type SymbolicLink is not restored',
      '../outside/pax.toml': 'path escapes the target ("..")',
      [join(j.outside, 'pax-absolute.toml')]: 'absolute path',
      'x/../../outside/dots.toml': 'path escapes the target ("..")',
    });
    // The symlink was never created, so esc/ is a real folder inside the target.
    expect((await stat(join(j.target, 'esc'))).isDirectory()).toBe(true);
    expect((await stat(join(j.target, 'setuid.toml'))).mode & 0o7777).toBe(0o777);
    expect([...(await treeContents(j.target)).keys()].sort()).toEqual(['esc/pwned.toml', 'setuid.toml']);
    await nothingOutside(j);
  });

  it('refuses a tarball compressed twice instead of inflating it uncounted', async () => {
    const j = await jail();
    const inner = tarGz([tarEntry({ name: 'a.toml', type: '0', data: Buffer.from('a = 1\n') })]);
    await expect(extractArchive({ file: await archiveFile(gzipSync(inner)), cwd: j.target })).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      exitCode: 3,
    });
    expect(await readdir(j.target)).toEqual([]);
    await nothingOutside(j);
  });
});

describe('decompression bombs and caps', () => {
  it('stops a 1 GiB gzip bomb by its compression ratio after a few MiB (default caps)', async () => {
    const j = await jail();
    const file = await archiveFile(gzipBomb(1024 * 1024 * 1024));
    expect((await stat(file)).size).toBeLessThan(2 * 1024 * 1024);
    const started = Date.now();
    const error = await extractArchive({ file, cwd: j.target }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'ARCHIVE_LIMIT_EXCEEDED',
      exitCode: 3,
      details: { limit: 'ratio', entry: 'bomb.bin' },
    });
    expect((error as Error).message).toMatch(/stopped at entry "bomb\.bin": .* over the 200:1 compression ratio cap/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const written = (await stat(join(j.target, 'bomb.bin')).catch(() => ({ size: 0 }))).size;
    // 16 MiB of grace, plus what was in flight (200 × the compressed read-ahead): nowhere near 1 GiB.
    expect(written).toBeLessThan(64 * 1024 * 1024);
    await nothingOutside(j);
  });

  it('refuses an entry that declares more than the byte cap before decompressing any of it', async () => {
    const j = await jail();
    const file = await archiveFile(gzipBomb(64 * 1024 * 1024, 'big.bin'));
    const budget = new ExtractBudget({ maxBytes: 8 * 1024 * 1024 });
    await expect(extractArchive({ file, cwd: j.target, budget })).rejects.toMatchObject({
      code: 'ARCHIVE_LIMIT_EXCEEDED',
      details: { limit: 'bytes', entry: 'big.bin' },
    });
    expect(await readdir(j.target)).toEqual([]);
    expect(budget.bytes).toBeLessThan(8 * 1024 * 1024);
  });

  it('counts entries and bytes over every archive of one restore', async () => {
    const many = tarGz(
      Array.from({ length: 30 }, (_, i) =>
        tarEntry({ name: `f${i}.toml`, type: '0', data: Buffer.from(`n = ${i}\n`) }),
      ),
    );
    const j = await jail();
    await expect(
      extractArchive({ file: await archiveFile(many), cwd: j.target, budget: new ExtractBudget({ maxEntries: 10 }) }),
    ).rejects.toMatchObject({
      code: 'ARCHIVE_LIMIT_EXCEEDED',
      details: { limit: 'entries', entry: 'f10.toml' },
    });
    const shared = new ExtractBudget({ maxEntries: 45 });
    const first = await jail();
    await extractArchive({ file: await archiveFile(many), cwd: first.target, budget: shared });
    expect(shared.entries).toBe(30);
    await expect(
      extractArchive({ file: await archiveFile(many), cwd: (await jail()).target, budget: shared }),
    ).rejects.toMatchObject({ details: { limit: 'entries' } });
  });
});
