import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import { ParallelGzip, type ParallelGzipOptions } from './parallel-gzip.ts';

const run = promisify(execFile);
const KiB = 1024;

async function gzip(
  input: Buffer,
  options: ParallelGzipOptions,
  chunk = 7919,
): Promise<{ out: Buffer; gz: ParallelGzip }> {
  const parts: Buffer[] = [];
  const gz = new ParallelGzip(options);
  const chunks = Array.from({ length: Math.ceil(input.length / chunk) }, (_, i) =>
    input.subarray(i * chunk, (i + 1) * chunk),
  );
  await pipeline(Readable.from(chunks), gz, new Writable({ write: (c: Buffer, _e, cb) => (parts.push(c), cb()) }));
  return { out: Buffer.concat(parts), gz };
}

/** Text that compresses like logs do, reproducibly. */
function logText(bytes: number): Buffer {
  let text = '';
  for (let i = 0; text.length < bytes; i += 1)
    text += `2026-03-01T00:00:${String(i % 60).padStart(2, '0')}Z INFO [zeroia] decision ${(i * 7919) % 1000} score=${(i % 97) / 100}\n`;
  return Buffer.from(text.slice(0, bytes));
}

describe('ParallelGzip', () => {
  it('writes one gzip member that zlib and GNU gzip read back byte for byte, whatever the block size', async () => {
    const input = Buffer.concat([logText(300 * KiB), randomBytes(200 * KiB), logText(100 * KiB)]);
    const dir = await tempDir('ark-pgz-');
    for (const blockSize of [16 * KiB, 64 * KiB, 1024 * KiB]) {
      const { out } = await gzip(input, { level: 6, blockSize });
      expect(gunzipSync(out).equals(input), `block ${blockSize}`).toBe(true);
      const file = join(dir, `b${blockSize}.gz`);
      await writeFile(file, out);
      await run('gzip', ['-t', file]);
      const { stdout } = await run('gzip', ['-dc', file], { encoding: 'buffer', maxBuffer: 16 * 1024 * KiB });
      expect(Buffer.from(stdout).equals(input)).toBe(true);
      // One member: gzip -l sees the whole uncompressed size in one entry.
      expect((await run('gzip', ['-l', file])).stdout).toContain(String(input.length));
    }
  });

  it('gives the same bytes back whatever the chunks: stored blocks spanning chunks, samples across them, recycled join buffers', async () => {
    // Alternating compressible and random blocks, so stored and deflated blocks interleave and
    // the buffers blocks are joined into are reused many times while others are in flight.
    const pieces: Buffer[] = [];
    for (let i = 0; i < 12; i += 1) pieces.push(i % 3 === 1 ? randomBytes(64 * KiB) : logText(64 * KiB));
    const input = Buffer.concat(pieces);
    for (const chunk of [1, 997, 65_536, 200 * KiB]) {
      const slice = chunk === 1 ? input.subarray(0, 40 * KiB) : input; // byte-by-byte: a shorter input
      const { out, gz } = await gzip(slice, { level: 6, blockSize: 64 * KiB, concurrency: 2 }, chunk);
      expect(gunzipSync(out).equals(slice), `chunks of ${chunk}`).toBe(true);
      if (chunk !== 1) expect(gz.storedBlocks, `chunks of ${chunk}`).toBe(4);
      if (chunk !== 1) expect(gz.deflatedBlocks, `chunks of ${chunk}`).toBe(8);
    }
  });

  it('compresses as well as plain gzip at the same level (each block primed with the 32 KiB before it)', async () => {
    const input = logText(2 * 1024 * KiB);
    const { out, gz } = await gzip(input, { level: 6, blockSize: 128 * KiB });
    const reference = gzipSync(input, { level: 6 }).length;
    expect(gz.deflatedBlocks).toBe(16);
    expect(out.length).toBeLessThan(reference * 1.02);
  });

  it('stores incompressible blocks instead of deflating them, and deflates the rest', async () => {
    const random = randomBytes(1024 * KiB);
    const text = logText(1024 * KiB);
    const { out, gz } = await gzip(Buffer.concat([random, text]), { level: 9, blockSize: 256 * KiB });
    expect(gz.storedBlocks).toBe(4);
    expect(gz.deflatedBlocks).toBe(4);
    expect(gunzipSync(out).equals(Buffer.concat([random, text]))).toBe(true);
    // Stored costs 5 bytes per 64 KiB: the random half is not inflated by more than that.
    expect(out.length).toBeLessThan(random.length + 100 + gzipSync(text).length * 1.05);
  });

  it('level 0 stores everything; the probe can be turned off; empty input is a valid empty gzip', async () => {
    const text = logText(300 * KiB);
    const stored = await gzip(text, { level: 0, blockSize: 64 * KiB });
    expect(stored.gz.deflatedBlocks).toBe(0);
    expect(stored.out.length).toBeGreaterThan(text.length);
    expect(gunzipSync(stored.out).equals(text)).toBe(true);
    const noProbe = await gzip(randomBytes(256 * KiB), { level: 1, blockSize: 64 * KiB, storeAboveRatio: 0 });
    // Without the probe random data is deflated first, found not to shrink, and stored anyway.
    expect(noProbe.gz.storedBlocks).toBe(4);
    const empty = await gzip(Buffer.alloc(0), { level: 6 });
    expect(gunzipSync(empty.out).length).toBe(0);
  });
});
