import { open, type FileHandle } from 'node:fs/promises';
import { PassThrough, Writable, type Duplex, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HashingPassThrough } from '../checksum/index.ts';
import { ParallelGzip } from './parallel-gzip.ts';
import { inPathOrder } from './read-runs.ts';
import type { PlannedSegment, SegmentIndex } from './segments.ts';
import { TarStreamCounter } from './tar-stream-counter.ts';
import {
  BUILTIN_PACKER,
  packerTar,
  produceTar,
  resolveTarProducer,
  type TarChoice,
  type TarProducerKind,
} from './tar-producer.ts';
import { zstdCompress } from './zstd-stream.ts';

const MiB = 1024 * 1024;
const STAGE_BUFFER = 256 * 1024;

import type { Compression } from '../layout/index.ts';

export type { Compression };

export interface ArchiveProgress {
  /** Tar bytes produced so far (the input of the compressor). */
  bytesIn: number;
  /** Compressed bytes written so far. */
  bytesOut: number;
  /** Regular files packed so far. */
  files: number;
}

export interface CreateArchiveOptions {
  /** Folder the member paths are relative to (GNU tar's -C). */
  cwd: string;
  /** Files or folders (recursed) relative to cwd, as GNU tar would be given them. */
  paths: readonly string[];
  /** The archive to write. It must not exist yet (callers write into a fresh folder). */
  file: string;
  /** gzip (default; `tar -xzf` reads it), zstd (via the zstd binary) or none (plain tar). */
  compression?: Compression;
  gzipLevel?: number;
  zstdLevel?: number;
  /** File mode of the archive itself: 0600 for archives holding secrets such as .env. */
  mode?: number;
  /** Who writes the tar stream (default 'auto': the built-in packer; 'gnu': GNU tar; 'node': node-tar). */
  tar?: TarChoice;
  /**
   * Files that change while we read them (live state): each is read once, from one
   * descriptor, by our own packer, and its bytes are handed to `onFile` (to validate exactly
   * what is archived). `tar` is then ignored.
   */
  live?: { onFile?: (member: string, content: Buffer | null) => void | Promise<void> };
  /** Called as data flows (often: throttle it). */
  onProgress?: (progress: ArchiveProgress) => void;
  /**
   * Pack in runs (segments.ts): the runs planned for reuse are copied from `previous` (the
   * previous archive, verified, its index checked), the others packed and deflated. gzip with
   * the built-in packer only (refused otherwise); the result's `segments` indexes the new file.
   */
  segments?: { plan: readonly PlannedSegment[]; previous: string | null };
}

export interface ArchiveResult {
  file: string;
  sha256: string;
  /** Size of the compressed archive on disk. */
  bytes: number;
  members: number;
  /** Size of the tar stream before compression. */
  tarBytes: number;
  compression: Compression;
  producer: TarProducerKind | 'live';
  /** With `segments`: the new archive's runs, and how many were copied (with their members). */
  segments?: SegmentIndex;
  copied?: { runs: number; members: number };
}

/**
 * Stream a tarball and hash it while it is written, in one pass: tar producer -> member
 * counter -> compressor -> sha256 -> file. Memory does not grow with the data. The gzip
 * output is one standard gzip member (GNU `tar -xzf` reads it), deflated on both cores, with
 * incompressible blocks stored rather than deflated. The file is created exclusively (an
 * existing file is never overwritten) and fsynced before this resolves; on failure the
 * caller removes it (it is written in a partial folder).
 */
export async function createArchive(options: CreateArchiveOptions): Promise<ArchiveResult> {
  const compression = options.compression ?? 'gzip';
  const producer = options.live ? 'live' : await resolveTarProducer(options.tar);
  const segments = options.segments ?? null;
  if (segments && (compression !== 'gzip' || producer === 'gnu' || producer === 'node'))
    throw new Error('an archive is written in runs only with gzip and the built-in packer');
  const handle = await open(options.file, 'wx', options.mode ?? 0o644);
  const source = segments?.previous && segments.plan.some((s) => s.reuse) ? await open(segments.previous, 'r') : null;
  try {
    const gzip = compression === 'gzip' ? new ParallelGzip({ level: options.gzipLevel ?? 6 }) : null;
    const drifted = new Set<number>();
    const runs = segments
      ? {
          plan: segments.plan,
          onSegment: (index: number, offset: number) => {
            const reuse = segments.plan[index]?.reuse;
            gzip!.at(offset, reuse ? { kind: 'copy', run: reuse, source: source! } : { kind: 'run' });
          },
          onDrift: (index: number) => drifted.add(index),
        }
      : null;
    const tar =
      producer === 'live'
        ? packerTar({
            cwd: options.cwd,
            paths: options.paths,
            ...(options.live?.onFile ? { onFile: options.live.onFile } : {}),
            ...(runs ? { segments: runs } : {}),
          })
        : runs
          ? packerTar({ cwd: options.cwd, paths: options.paths, ...BUILTIN_PACKER, segments: runs })
          : produceTar(producer, options.cwd, options.paths);
    // A buffer between stages, so each (tar, compression, the disk) runs while the next one works;
    // small, since several archives are written at once and each MiB here counts in the peak RSS.
    const counter = new TarStreamCounter({ highWaterMark: STAGE_BUFFER });
    const hasher = new HashingPassThrough({ highWaterMark: STAGE_BUFFER });
    const zstd = compression === 'zstd' ? zstdCompress(options.zstdLevel ?? 3) : null;
    const compressor: Transform | Duplex = zstd ? zstd.stream : (gzip ?? new PassThrough());
    if (options.onProgress) {
      const report = () =>
        options.onProgress!({ bytesIn: counter.bytes, bytesOut: hasher.bytes, files: counter.files });
      counter.on('data', report);
    }
    const flusher = new EarlyFlush(handle);
    const out = fileSink(handle, flusher);
    try {
      await Promise.all([pipeline(tar.stream, counter, compressor, hasher, out), tar.done, zstd?.done]);
    } catch (error) {
      tar.abort();
      zstd?.abort();
      await flusher.settle().catch(() => {});
      throw await firstCause(error, tar.done);
    }
    await flusher.settle();
    await handle.sync();
    const copied = { runs: 0, members: 0 };
    for (const s of segments?.plan ?? [])
      if (s.reuse) {
        copied.runs += 1;
        copied.members += s.reuse.members;
      }
    return {
      file: options.file,
      sha256: hasher.digest(),
      bytes: hasher.bytes,
      members: counter.members + copied.members,
      tarBytes: gzip ? gzip.inputBytes : counter.bytes,
      compression,
      producer,
      ...(segments && gzip
        ? {
            segments: {
              level: gzip.level,
              sorted: inPathOrder(segments.plan.flatMap((s) => s.members.map((m) => m.name))),
              runs: gzip.runs.map((run, i) => {
                const planned = segments.plan[i];
                return {
                  digest: planned && !drifted.has(i) ? planned.digest : '',
                  members: planned ? (planned.reuse?.members ?? planned.members.length) : 0,
                  tar_bytes: run.tarBytes,
                  gz_offset: run.gzOffset,
                  gz_bytes: run.gzBytes,
                  crc32: run.crc,
                };
              }),
            },
            copied,
          }
        : {}),
    };
  } finally {
    await source?.close();
    await handle.close();
  }
}

/** Bytes written between two early flushes. */
export const FLUSH_EVERY = 32 * MiB;

/**
 * Starts an fdatasync each time FLUSH_EVERY more bytes were written (one at a time, not
 * awaited by the writes), so the disk takes the archive while the rest is compressed instead
 * of all at once in the final fsync (measured: 644 MiB left dirty took 1.6 s to fsync here).
 */
export class EarlyFlush {
  readonly #handle: FileHandle;
  #unflushed = 0;
  #running: Promise<void> | null = null;
  #failure: unknown = null;

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  wrote(bytes: number): void {
    this.#unflushed += bytes;
    if (this.#unflushed < FLUSH_EVERY || this.#running !== null) return;
    this.#unflushed = 0;
    this.#running = this.#handle.datasync().then(
      () => {
        this.#running = null;
      },
      (error: unknown) => {
        this.#failure ??= error;
        this.#running = null;
      },
    );
  }

  /** Waits for the flush in progress; throws what a flush met (EIO: the disk refused the data). */
  async settle(): Promise<void> {
    await this.#running;
    if (this.#failure !== null) throw this.#failure;
  }
}

/**
 * Writes to our handle and never closes it (we fsync, then close it ourselves, also after a
 * failure). A 1 MiB buffer lets the disk write while the next blocks are compressed.
 */
function fileSink(handle: FileHandle, flusher: EarlyFlush): Writable {
  const writeAll = async (chunk: Buffer) => {
    for (let at = 0; at < chunk.length; ) at += (await handle.write(chunk, at, chunk.length - at)).bytesWritten;
    flusher.wrote(chunk.length);
  };
  const writevAll = async (buffers: Buffer[]) => {
    const total = buffers.reduce((sum, b) => sum + b.length, 0);
    const { bytesWritten } = await handle.writev(buffers);
    if (bytesWritten < total) await writeAll(Buffer.concat(buffers).subarray(bytesWritten)); // a short write: rare
    flusher.wrote(bytesWritten);
  };
  return new Writable({
    highWaterMark: MiB,
    write: (chunk: Buffer, _encoding, callback) => void writeAll(chunk).then(() => callback(), callback),
    // Stored deflate blocks arrive as many 64 KiB pieces: one write for all that is waiting.
    writev: (chunks, callback) => void writevAll(chunks.map((c) => c.chunk as Buffer)).then(() => callback(), callback),
  });
}

/** When the pipeline broke because the producer died, its error (EACCES on a file) says more than EPIPE. */
async function firstCause(error: unknown, producerDone: Promise<void>): Promise<unknown> {
  const producerError = await Promise.race([
    producerDone.then(
      () => null,
      (e: unknown) => e,
    ),
    new Promise((r) => setTimeout(() => r(null), 200)),
  ]);
  return producerError ?? error;
}
