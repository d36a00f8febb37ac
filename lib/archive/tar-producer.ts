import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { create } from 'tar';
import { UsageError } from '../errors.ts';
import { packLiveFiles, type LiveFileOptions } from './pack-live-files.ts';

// Who writes the tar stream. By default our own packer (pack-live-files.ts), in the
// process: sorted names, no atime/ctime (the same tree gives the same bytes), big files read
// on libuv's pool in 256 KiB chunks. GNU tar (ARK_TAR=gnu) packs as fast but through a pipe:
// 64 KiB chunks, a second process and the kernel's copies cost ~1 s more CPU on the 1 GiB
// bench, on two cores. node-tar (ARK_TAR=node) gives the same members. Whoever packs, the
// stream is read by us, so hashing, the file's mode, fsync and the atomic publish stay ours.

export type TarProducerKind = 'builtin' | 'gnu' | 'node';
/** 'auto': the built-in packer. */
export type TarChoice = TarProducerKind | 'auto';

export interface TarStream {
  stream: Readable;
  /** Settles when the producer is done; rejects with a Node-style error (code, path) when it failed. */
  done: Promise<void>;
  /** Stop it (the consumer failed). */
  abort(): void;
}

export function produceTar(kind: TarProducerKind, cwd: string, paths: readonly string[]): TarStream {
  if (kind === 'gnu') return gnuTar(cwd, paths);
  if (kind === 'node') return nodeTar(cwd, paths);
  return packerTar({ cwd, paths, ...BUILTIN_PACKER });
}

/** Our own packer as a TarStream (live state, or any archive: see pack-live-files.ts). */
export function packerTar(options: LiveFileOptions): TarStream {
  const stream = packLiveFiles(options);
  return { stream, done: Promise.resolve(), abort: () => stream.destroy() };
}

/** How the built-in packer reads files that are not live state: streamed above one read's worth (256 KiB), *.tmp files kept (as tar would). */
export const BUILTIN_PACKER = { maxBuffered: 256 * 1024, skipInFlightTemp: false } as const;

let gnuProbe: Promise<boolean> | undefined;

/** Whether a GNU tar >= 1.28 is on PATH (asked once per process). */
export function hasGnuTar(): Promise<boolean> {
  gnuProbe ??= promisify(execFile)('tar', ['--version'], { timeout: 5000, env: { ...process.env, LC_ALL: 'C' } }).then(
    ({ stdout }) => {
      const m = /^tar \(GNU tar\) (\d+)\.(\d+)/.exec(stdout);
      return m !== null && (Number(m[1]) > 1 || Number(m[2]) >= 28);
    },
    () => false,
  );
  return gnuProbe;
}

/** The producer a choice means; 'gnu' without a GNU tar >= 1.28 on PATH is refused (UsageError), before anything is written. */
export async function resolveTarProducer(choice: TarChoice = 'auto'): Promise<TarProducerKind> {
  if (choice === 'gnu' && !(await hasGnuTar())) {
    throw new UsageError(
      'packing with GNU tar (ARK_TAR=gnu) needs GNU tar >= 1.28 on PATH (for --sort=name), and the tar found is not one; unset ARK_TAR to use the built-in packer',
    );
  }
  return choice === 'auto' ? 'builtin' : choice;
}

function nodeTar(cwd: string, paths: readonly string[]): TarStream {
  // strict: an unreadable file fails the archive (EACCES, with its path) instead of a warning.
  // maxReadSize: node-tar reads up to 16 MiB per file at once by default, 4 files at a time.
  const pack = create({ cwd, strict: true, maxReadSize: 1024 * 1024, jobs: 2 }, [...paths]);
  let fail: (error: unknown) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    fail = reject;
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  done.catch(() => {});
  return { stream: pack as unknown as Readable, done, abort: () => fail(new Error('aborted')) };
}

function gnuTar(cwd: string, paths: readonly string[]): TarStream {
  // gnu format (what the runbook's `tar -czf` wrote), names sorted so that the same tree gives
  // the same bytes, `--` so that no path is ever read as an option.
  const child = spawn(
    'tar',
    ['--create', '--file=-', '--format=gnu', '--sort=name', '--directory', cwd, '--', ...paths],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
    },
  );
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < 64 * 1024) stderr += text;
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const problems = stderr
        .split('\n')
        .filter((line) => line.trim() !== '' && !/: file changed as we read it$/.test(line));
      // Exit 1 with only "file changed as we read it": a log appended to while read, archived
      // up to the size it had (node-tar does the same without a word).
      if (code === 0 || (code === 1 && problems.length === 0)) return resolve();
      reject(tarFailure(cwd, problems, code, signal));
    });
  });
  done.catch(() => {});
  return { stream: child.stdout, done, abort: () => child.kill('SIGTERM') };
}

const ERRNO: Record<string, string> = {
  'Permission denied': 'EACCES',
  'No such file or directory': 'ENOENT',
  'Not a directory': 'ENOTDIR',
  'Too many levels of symbolic links': 'ELOOP',
  'Input/output error': 'EIO',
};

/** GNU tar's first complaint as the error node-tar would have thrown: `EACCES: permission denied, open '<path>'`. */
function tarFailure(cwd: string, problems: string[], code: number | null, signal: NodeJS.Signals | null): Error {
  for (const line of problems) {
    const m = /^tar: (.+): Cannot (open|stat|read|opendir|readlink|savedir): (.+)$/.exec(line);
    if (!m) continue;
    const [, path, op, reason] = m as unknown as [string, string, string, string];
    const errno = ERRNO[reason];
    const syscall = op === 'savedir' || op === 'opendir' ? 'scandir' : op;
    const full = join(cwd, path);
    const error = new Error(
      errno ? `${errno}: ${reason.toLowerCase()}, ${syscall} '${full}'` : `${reason}: ${syscall} '${full}'`,
    ) as NodeJS.ErrnoException;
    if (errno) error.code = errno;
    error.path = full;
    return error;
  }
  const why =
    problems.length > 0 ? problems.slice(0, 3).join('; ') : signal ? `killed by ${signal}` : `exit code ${code}`;
  return new Error(`GNU tar failed: ${why}`);
}
