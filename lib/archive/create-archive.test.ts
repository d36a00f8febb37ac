import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { sha256File } from '../checksum/index.ts';
import { copyFixture, tempDir, treeContents } from '../testing.ts';
import { EarlyFlush, FLUSH_EVERY } from './create-archive.ts';
import { archiveFileName } from '../layout/index.ts';
import { assertZstdAvailable, createArchive, measurePlan, type CreateArchiveOptions } from './index.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;

async function list(file: string, flags = ['-tzf']): Promise<string[]> {
  return (await run('tar', [...flags, file], { maxBuffer: 64 * MiB })).stdout.trim().split('\n');
}

/** A tree with what archives meet: long and non-ASCII names, a symlink, an empty folder, a big random file. */
async function awkwardTree(): Promise<string> {
  const root = await copyFixture();
  const deep = join(root, 'state', 'a'.repeat(60), 'b'.repeat(60));
  await mkdir(deep, { recursive: true });
  await writeFile(join(deep, `${'c'.repeat(120)}.toml`), 'x = 1\n');
  await writeFile(join(root, 'state', 'été_ζ.toml'), 'y = 2\n');
  await symlink('zeroia_state.toml', join(root, 'state', 'link.toml'));
  await mkdir(join(root, 'state', 'empty'));
  await writeFile(join(root, 'logs', 'weights.bin'), randomBytes(3 * MiB));
  return root;
}

async function archive(
  root: string,
  options: Partial<CreateArchiveOptions> & Pick<CreateArchiveOptions, 'paths'>,
  name = 'a.tar.gz',
) {
  const file = join(await tempDir('ark-create-'), name);
  return { file, result: await createArchive({ cwd: root, file, ...options }) };
}

describe('createArchive: producers', () => {
  it('the built-in packer (the default), GNU tar, node-tar and the live packer give the same members and bytes, which GNU tar extracts', async () => {
    const root = await awkwardTree();
    const paths = ['state/', 'config/', 'logs/', '.env'];
    const made = {
      builtin: await archive(root, { paths }),
      gnu: await archive(root, { paths, tar: 'gnu' }),
      node: await archive(root, { paths, tar: 'node' }),
      live: await archive(root, { paths, live: {} }),
    };
    const original = await treeContents(root);
    const expected = (await list(made.gnu.file)).sort();
    expect(expected).toEqual(
      expect.arrayContaining([
        `state/${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(120)}.toml`,
        'state/été_ζ.toml',
        'state/link.toml',
        'state/empty/',
      ]),
    );
    for (const [producer, { file, result }] of Object.entries(made)) {
      expect(result.producer, producer).toBe(producer);
      const members = (await list(file)).sort();
      // node-tar stores a folder name longer than 100 bytes without its trailing slash.
      const loose = (names: string[]) => (producer === 'node' ? names.map((n) => n.replace(/\/$/, '')) : names);
      expect(loose(members), producer).toEqual(loose(expected));
      expect(result.members, producer).toBe(members.length);
      expect(result.sha256, producer).toBe((await sha256File(file)).sha256);
      expect(result.bytes, producer).toBe((await stat(file)).size);
      const target = await tempDir('ark-x-');
      await run('tar', ['-xzf', file, '-C', target]);
      const restored = await treeContents(target);
      for (const [path, content] of restored)
        expect(content.equals(original.get(path)!), `${producer}: ${path}`).toBe(true);
      expect((await run('readlink', [join(target, 'state', 'link.toml')])).stdout.trim()).toBe('zeroia_state.toml');
    }
  });

  it('the same tree gives the same archive bytes, run after run (sorted names, deterministic gzip)', async () => {
    const root = await copyFixture();
    for (const options of [{}, { tar: 'gnu' as const }, { live: {} }]) {
      const a = await archive(root, { paths: ['state/', 'config/'], ...options });
      const b = await archive(root, { paths: ['state/', 'config/'], ...options });
      expect(a.result.sha256).toBe(b.result.sha256);
    }
  });

  it('the live packer hands over exactly the bytes it archives, and refuses a FIFO by name', async () => {
    const root = await copyFixture();
    const seen = new Map<string, Buffer | null>();
    const { file } = await archive(root, {
      paths: ['state/'],
      live: { onFile: (member, content) => void seen.set(member, content) },
    });
    const target = await tempDir('ark-x-');
    await run('tar', ['-xzf', file, '-C', target]);
    const restored = await treeContents(target);
    expect([...seen.keys()].sort()).toEqual([...restored.keys()].sort());
    for (const [path, content] of restored) expect(seen.get(path)?.equals(content), path).toBe(true);

    await run('mkfifo', [join(root, 'state', 'pipe')]);
    await expect(archive(root, { paths: ['state/'], live: {} })).rejects.toThrow(
      /state\/pipe is not a regular file, folder or symlink/,
    );
  });

  it('maps GNU tar failures to the errors node-tar gives (ENOENT with the path), and never overwrites', async () => {
    const root = await copyFixture();
    await expect(archive(root, { paths: ['no-such-dir/'], tar: 'gnu' })).rejects.toThrow(
      `ENOENT: no such file or directory, stat '${join(root, 'no-such-dir')}'`,
    );
    const { file } = await archive(root, { paths: ['state/'] });
    await expect(createArchive({ cwd: root, paths: ['state/'], file })).rejects.toThrow(/EEXIST/);
  });
});

describe('createArchive: compression', () => {
  it('stores incompressible data (model weights) instead of deflating it, and GNU tar reads the result', async () => {
    const root = await tempDir('ark-models-');
    const weights = randomBytes(8 * MiB);
    await mkdir(join(root, 'models', 'blobs'), { recursive: true });
    await writeFile(join(root, 'models', 'blobs', 'sha256-00'), weights);
    const { file, result } = await archive(root, { paths: ['models/'], gzipLevel: 6, tar: 'gnu' });
    // Stored deflate blocks cost 5 bytes per 64 KiB: next to nothing on top of the data.
    expect(result.bytes).toBeLessThan(weights.length * 1.001 + 64 * 1024);
    await run('gzip', ['-t', file]);
    const target = await tempDir('ark-x-');
    await run('tar', ['-xzf', file, '-C', target]);
    expect((await readFile(join(target, 'models', 'blobs', 'sha256-00'))).equals(weights)).toBe(true);
  });

  it('compression = zstd writes a .tar.zst that zstd verifies and GNU tar lists with the counted members', async () => {
    const root = await copyFixture();
    const { file, result } = await archive(
      root,
      { paths: ['state/', 'config/', 'logs/'], compression: 'zstd', zstdLevel: 3 },
      archiveFileName('arkalia_states', '20260101', 'zstd'),
    );
    expect(file).toMatch(/arkalia_states_20260101\.tar\.zst$/);
    expect(result.compression).toBe('zstd');
    await run('zstd', ['-t', '-q', file]);
    const members = await list(file, ['--zstd', '-tf']);
    expect(result.members).toBe(members.length);
    expect(members).toContain('state/zeroia_state.toml');
    expect(result.sha256).toBe((await sha256File(file)).sha256);
  });

  it('compression = none writes a plain tar', async () => {
    const root = await copyFixture();
    const { file, result } = await archive(root, { paths: ['state/'], compression: 'none' }, 'a.tar');
    expect(result.bytes).toBe(result.tarBytes);
    expect((await list(file, ['-tf'])).length).toBe(result.members);
  });

  it('says how to fix a missing zstd program before anything is written', async () => {
    await expect(assertZstdAvailable(['logs', 'models'], async () => null)).rejects.toMatchObject({
      code: 'ZSTD_NOT_FOUND',
      message: expect.stringMatching(/logs, models.*apt-get install zstd.*compression = "gzip"/s),
    });
    await expect(assertZstdAvailable([], async () => null)).resolves.toBeUndefined();
    await expect(assertZstdAvailable(['logs'], async () => 'zstd v1.5')).resolves.toBeUndefined();
  });
});

describe('measurePlan', () => {
  it('estimates the tar size and counts files from lstat alone, close to what is written', async () => {
    const root = await awkwardTree();
    const size = await measurePlan(root, ['state/', 'logs/', '.env', 'missing/']);
    const { result } = await archive(
      root,
      { paths: ['state/', 'logs/', '.env'], compression: 'none', tar: 'gnu' },
      'a.tar',
    );
    expect(size.entries).toBe(result.members);
    expect(Math.abs(size.tarBytes - result.tarBytes) / result.tarBytes).toBeLessThan(0.02);
    expect(size.files).toBe((await list(join(result.file), ['-tvf'])).filter((l) => l.startsWith('-')).length);
  });

  it('fingerprints the members: the same until a file is rewritten, renamed, re-moded or added, even with its mtime set back', async () => {
    const root = await awkwardTree();
    const paths = ['state/', 'logs/', '.env'];
    const first = (await measurePlan(root, paths)).fingerprint;
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect((await measurePlan(root, paths)).fingerprint).toBe(first);
    const file = join(root, '.env');
    const before = await stat(file);
    const same = await readFile(file);
    await writeFile(file, Buffer.from(same.toString('latin1').replace(/./, 'X'), 'latin1'));
    await utimes(file, before.atime, before.mtime); // same size, same mtime: only the ctime tells
    const rewritten = (await measurePlan(root, paths)).fingerprint;
    expect(rewritten).not.toBe(first);
    await chmod(file, 0o640);
    const remoded = (await measurePlan(root, paths)).fingerprint;
    expect(remoded).not.toBe(rewritten);
    await writeFile(join(root, 'logs', 'new.log'), '');
    expect((await measurePlan(root, paths)).fingerprint).not.toBe(remoded);
    expect((await measurePlan(root, ['state/', 'logs/'])).fingerprint).not.toBe(
      (await measurePlan(root, ['state/', 'logs/', 'missing/'])).fingerprint,
    );
  });
});

describe('EarlyFlush', () => {
  /** A stand-in for the archive's file handle that records datasync calls and settles them when told. */
  function fakeHandle(fail?: Error) {
    const pending: (() => void)[] = [];
    let calls = 0;
    const handle = {
      datasync: () =>
        new Promise<void>((resolve, reject) => {
          calls += 1;
          pending.push(() => (fail ? reject(fail) : resolve()));
        }),
    };
    return {
      handle: handle as unknown as import('node:fs/promises').FileHandle,
      calls: () => calls,
      finish: () => pending.splice(0).forEach((f) => f()),
    };
  }

  it('flushes every FLUSH_EVERY bytes, one flush at a time, and settles when the last one is done', async () => {
    const fake = fakeHandle();
    const flusher = new EarlyFlush(fake.handle);
    flusher.wrote(FLUSH_EVERY - 1);
    expect(fake.calls()).toBe(0);
    flusher.wrote(1);
    expect(fake.calls()).toBe(1);
    flusher.wrote(3 * FLUSH_EVERY); // the first flush still runs: no second one on top of it
    expect(fake.calls()).toBe(1);
    fake.finish();
    await flusher.settle();
    flusher.wrote(FLUSH_EVERY);
    expect(fake.calls()).toBe(2);
    let settled = false;
    const settling = flusher.settle().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(settled).toBe(false);
    fake.finish();
    await settling;
  });

  it('keeps the error of a failed flush and throws it at the end (the final fsync may no longer see it)', async () => {
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    const fake = fakeHandle(eio);
    const flusher = new EarlyFlush(fake.handle);
    flusher.wrote(FLUSH_EVERY);
    fake.finish();
    await expect(flusher.settle()).rejects.toBe(eio);
  });

  it('archives larger than FLUSH_EVERY are written whole and read back by GNU tar', async () => {
    const dir = await tempDir('ark-flush-');
    await mkdir(join(dir, 'in'));
    const blob = randomBytes(FLUSH_EVERY + 5 * MiB);
    await writeFile(join(dir, 'in', 'weights.bin'), blob);
    const result = await createArchive({ cwd: join(dir, 'in'), paths: ['weights.bin'], file: join(dir, 'out.tar.gz') });
    expect(await sha256File(join(dir, 'out.tar.gz'))).toEqual({ sha256: result.sha256, bytes: result.bytes });
    await mkdir(join(dir, 'back'));
    await run('tar', ['-xzf', join(dir, 'out.tar.gz'), '-C', join(dir, 'back')]);
    expect((await readFile(join(dir, 'back', 'weights.bin'))).equals(blob)).toBe(true);
  });
});
