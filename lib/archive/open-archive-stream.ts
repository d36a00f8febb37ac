import { createReadStream, type ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { spawn } from 'node:child_process';
import { Duplex, PassThrough, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { createGunzip } from 'node:zlib';
import { IntegrityError } from '../errors.ts';
import type { ExtractBudget } from './extract-limits.ts';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

export interface ArchiveStream {
  /** Destroy it to stop reading (the pipeline then rejects with that error). */
  source: ReadStream;
  /** Count compressed bytes → gunzip / zstd -d → count decompressed bytes against the budget. */
  stages: [Transform, Duplex, Transform];
}

/**
 * The archive's bytes as plain tar, decompressed by us rather than by the tar parser so that
 * every decompressed byte is counted against the restore's caps: gzip (.tar.gz), zstd
 * (.tar.zst) or plain tar, told apart by their magic bytes as GNU tar does. A decompressed stream that starts with a compression magic
 * (a tarball compressed twice) is refused: the parser would inflate it again, uncounted.
 */
export async function openArchiveStream(
  file: string,
  budget: ExtractBudget,
  currentEntry: () => string,
  onRead?: (compressedBytes: number) => void,
): Promise<ArchiveStream> {
  const gzip = await startsWith(file, GZIP_MAGIC);
  const zstd = !gzip && (await startsWith(file, ZSTD_MAGIC));
  const compressedInput = gzip || zstd;
  const name = basename(file);
  let compressed = 0;
  let decompressed = 0;
  const countIn = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      compressed += chunk.length;
      onRead?.(compressed);
      callback(null, chunk);
    },
  });
  const countOut = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        if (decompressed === 0 && (hasMagic(chunk, GZIP_MAGIC) || hasMagic(chunk, ZSTD_MAGIC))) {
          throw new IntegrityError(
            'ARCHIVE_CORRUPT',
            `${name} holds another compressed stream instead of a tar archive: refusing to inflate it twice`,
          );
        }
        decompressed += chunk.length;
        budget.admitBytes(
          name,
          currentEntry(),
          chunk.length,
          compressedInput ? compressed : decompressed,
          decompressed,
        );
        callback(null, chunk);
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  // 256 KiB of tar per inflate call: with the default (16 KiB) a 50 MB states archive takes
  // 3,200 thread-pool round trips, and reading it took twice as long. Reads stay at 64 KiB:
  // the ratio cap counts compressed bytes read, so bigger reads would let a bomb write more.
  const inflate = gzip ? createGunzip({ chunkSize: 256 * 1024 }) : zstd ? zstdDecompress(name) : new PassThrough();
  return { source: createReadStream(file), stages: [countIn, inflate, countOut] };
}

/** .tar.zst (policy compression = "zstd"): Node's own decoder where it has one (22.15+), else the zstd program. */
function zstdDecompress(name: string): Duplex {
  const native = (zlib as { createZstdDecompress?: () => Duplex }).createZstdDecompress;
  if (native) return native();
  const child = spawn('zstd', ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr = (stderr + t).slice(-2000)));
  const duplex = Duplex.from({ writable: child.stdin, readable: child.stdout });
  child.on('error', (error) =>
    duplex.destroy(
      new IntegrityError(
        'ARCHIVE_CORRUPT',
        `${name} is zstd-compressed and the zstd program cannot run: ${error.message} (install zstd)`,
      ),
    ),
  );
  child.on('close', (code) => {
    if (code !== 0 && code !== null)
      duplex.destroy(new IntegrityError('ARCHIVE_CORRUPT', `${name}: zstd -d failed (exit ${code}): ${stderr.trim()}`));
  });
  duplex.on('close', () => child.kill());
  return duplex;
}

async function startsWith(file: string, magic: readonly number[]): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(magic.length);
    const { bytesRead } = await handle.read(buffer, 0, magic.length, 0);
    return bytesRead === magic.length && hasMagic(buffer, magic);
  } finally {
    await handle.close();
  }
}

function hasMagic(chunk: Buffer, magic: readonly number[]): boolean {
  return chunk.length >= magic.length && magic.every((byte, i) => chunk[i] === byte);
}
