import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { create } from 'tar';
import { HashingPassThrough } from '../checksum/index.ts';

export interface CreateArchiveOptions {
  /** Folder the member paths are relative to (GNU tar's -C). */
  cwd: string;
  /** Files or folders (recursed) relative to cwd, as GNU tar would be given them. */
  paths: readonly string[];
  /** The .tar.gz to write. It must not exist yet (callers write into a fresh folder). */
  file: string;
  gzipLevel?: number;
  /** File mode of the archive itself: 0600 for archives holding secrets such as .env. */
  mode?: number;
  onMember?: (path: string) => void;
}

export interface ArchiveResult {
  file: string;
  sha256: string;
  /** Size of the compressed archive on disk. */
  bytes: number;
  members: number;
}

/**
 * Stream a gzip tarball (readable by GNU `tar -xzf`) and hash it while it is written, in one
 * pass; memory does not grow with the data. The file is fsynced before this resolves.
 */
export async function createArchive(options: CreateArchiveOptions): Promise<ArchiveResult> {
  let members = 0;
  const pack = create(
    {
      cwd: options.cwd,
      gzip: { level: options.gzipLevel ?? 6 },
      // Keep mtimes and modes; skip no files silently (unreadable ones fail the archive).
      strict: true,
      onWriteEntry: (entry) => {
        members += 1;
        options.onMember?.(entry.path);
      },
    },
    [...options.paths],
  );
  const hasher = new HashingPassThrough();
  await pipeline(pack, hasher, createWriteStream(options.file, { flags: 'wx', mode: options.mode ?? 0o644 }));
  const handle = await open(options.file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { file: options.file, sha256: hasher.digest(), bytes: hasher.bytes, members };
}
