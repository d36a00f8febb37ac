import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { recordingSink } from '../events.ts';
import { ProgressReporter } from '../progress.ts';
import { tempDir } from '../testing.ts';
import { HashingPassThrough, sha256Buffer, sha256File, sha256FileShown } from './hash-stream.ts';

// Streaming sha256: what flows through is unchanged, counted and hashed; a file's hash and
// size; and the "verifying <file>" progress an operator sees while a big archive is read.

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const MiB = 1024 * 1024;

describe('HashingPassThrough', () => {
  it('passes every byte on unchanged, and counts and hashes them as they pass', async () => {
    const chunks = [Buffer.from('alpha '), Buffer.alloc(70_000, 7), Buffer.from(' omega')];
    const seen: number[] = [];
    const through = new HashingPassThrough({ onBytes: (bytes) => seen.push(bytes) });
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(chunks),
      through,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          out.push(chunk);
          callback();
        },
      }),
    );
    const all = Buffer.concat(chunks);
    expect(Buffer.concat(out).equals(all)).toBe(true);
    expect(through.bytes).toBe(all.length);
    expect(seen).toEqual([6, 70_006, 70_012]);
    expect(through.digest()).toBe(sha(all));
  });

  it('works without a progress callback, and hashes nothing as the empty hash', async () => {
    const through = new HashingPassThrough();
    await pipeline(Readable.from([Buffer.from('x')]), through, new Writable({ write: (_c, _e, cb) => cb() }));
    expect([through.bytes, through.digest()]).toEqual([1, sha('x')]);
    const empty = new HashingPassThrough();
    await pipeline(Readable.from([]), empty, new Writable({ write: (_c, _e, cb) => cb() }));
    expect([empty.bytes, empty.digest()]).toEqual([0, sha('')]);
  });
});

describe('sha256File', () => {
  it('gives the hash and size of a file read in 1 MiB reads, telling the bytes read so far', async () => {
    const path = join(await tempDir('ark-hash-'), 'big.bin');
    const data = Buffer.alloc(2 * MiB + 5, 'ab');
    await writeFile(path, data);
    const seen: number[] = [];
    expect(await sha256File(path, (bytes) => seen.push(bytes))).toEqual({ sha256: sha(data), bytes: data.length });
    expect(seen).toEqual([MiB, 2 * MiB, 2 * MiB + 5]);
    expect(await sha256File(path)).toEqual({ sha256: sha(data), bytes: data.length });
  });

  it('reads a file up to 1 MiB in one go, and one byte more through the stream', async () => {
    const dir = await tempDir('ark-hash-');
    for (const size of [1, 4096, MiB, MiB + 1]) {
      const data = Buffer.alloc(size, 'xyz');
      await writeFile(join(dir, `f${size}`), data);
      const seen: number[] = [];
      expect(await sha256File(join(dir, `f${size}`), (bytes) => seen.push(bytes))).toEqual({
        sha256: sha(data),
        bytes: size,
      });
      expect(seen).toEqual(size <= MiB ? [size] : [MiB, MiB + 1]);
    }
  });

  it('a file that holds more than its size said (it grew, or /proc) is hashed whole, from its start', async () => {
    const truth = await readFile('/proc/version'); // stat says 0 bytes
    expect(truth.length).toBeGreaterThan(0);
    expect(await sha256File('/proc/version')).toEqual({ sha256: sha(truth), bytes: truth.length });
  });

  it('an empty file has the empty hash; a missing one is ENOENT', async () => {
    const dir = await tempDir('ark-hash-');
    await writeFile(join(dir, 'empty'), '');
    expect(await sha256File(join(dir, 'empty'))).toEqual({ sha256: sha(''), bytes: 0 });
    await expect(sha256File(join(dir, 'gone'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('sha256FileShown', () => {
  it('shows a "verifying <file>" task with its planned size, its reads, and its end', async () => {
    const path = join(await tempDir('ark-hash-'), 'arkalia_states_20261126.tar.gz');
    const data = Buffer.alloc(MiB + 10, 3);
    await writeFile(path, data);
    const sink = recordingSink();
    let clock = 0;
    const progress = new ProgressReporter({ sink, totalBytes: MiB + 10, now: () => (clock += 1000) });
    expect(await sha256FileShown(path, MiB + 10, progress)).toEqual({ sha256: sha(data), bytes: MiB + 10 });
    expect(
      sink.events.map((e) => (e.kind === 'progress' ? [e.task, e.label, e.bytes, e.totalBytes, e.done] : e.kind)),
    ).toEqual([
      [`hash:${path}`, 'verifying arkalia_states_20261126.tar.gz', MiB, MiB + 10, false],
      [`hash:${path}`, 'verifying arkalia_states_20261126.tar.gz', MiB + 10, MiB + 10, false],
      [`hash:${path}`, 'verifying arkalia_states_20261126.tar.gz', MiB + 10, MiB + 10, true],
    ]);
  });

  it('without a reporter, just hashes', async () => {
    const path = join(await tempDir('ark-hash-'), 'f');
    await writeFile(path, 'content');
    expect(await sha256FileShown(path, 7, undefined)).toEqual({ sha256: sha('content'), bytes: 7 });
  });
});

describe('sha256Buffer', () => {
  it('hashes a string as its UTF-8 bytes, and a buffer', () => {
    expect(sha256Buffer('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Buffer('é')).toBe(sha(Buffer.from('é', 'utf8')));
    expect(sha256Buffer(Buffer.from([0, 1, 2]))).toBe(sha(Buffer.from([0, 1, 2])));
  });
});
