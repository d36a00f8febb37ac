import { constants } from 'node:fs';
import { link, lstat, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { sha256Buffer } from '../checksum/index.ts';
import { ArkError, failureText } from '../errors.ts';
import { fsyncDir, readAgain, type SeenFile, tempSibling, validateToml } from '../state/index.ts';
import { linkAbove } from '../tree/index.ts';
import { snapshotDirFor, snapshotRelPath } from './realtime-layout.ts';
import type { SnapshotCatalog } from './snapshot-catalog.ts';
import { formatStamp, MAX_SEQ, parseStamp, snapshotFileName } from './snapshot-name.ts';

export interface TakeSnapshotOptions {
  root: string;
  backupDir: string;
  /** The live file, relative to the root (`modules/zeroia/state/zeroia_state.toml`). */
  path: string;
  catalog: SnapshotCatalog;
  now?: () => Date;
  /** Decide only: read, validate and compare, but write nothing. */
  dryRun?: boolean;
}

export type SnapshotOutcome =
  | { status: 'written'; path: string; snapshot: string; bytes: number; sha256: string; takenAt: Date }
  | { status: 'would-write'; path: string; snapshot: string; bytes: number; sha256: string }
  | { status: 'unchanged'; path: string; snapshot: string; sha256: string }
  | { status: 'invalid'; path: string; reason: string; sha256: string }
  | { status: 'skipped'; path: string; reason: string };

/**
 * Snapshot one live state file, the runbook's create_atomic_snapshot done right:
 * read it ONCE through one descriptor (a service may rename a new version over it at any
 * moment: we get the old or the new inode, whole), validate and hash exactly those bytes,
 * skip it if invalid or equal to its newest snapshot, else write those same bytes to a hidden
 * temp file, fsync, hard-link it to its final name (never replaces an existing snapshot;
 * taken → next `_NNN`), remove the temp name, fsync the folder. A failure (ENOSPC) removes
 * the temp file and leaves nothing under a final name. Idempotent: a second call with the
 * same content writes nothing.
 */
export async function takeSnapshot(options: TakeSnapshotOptions): Promise<SnapshotOutcome> {
  const { path, catalog } = options;
  const now = options.now ?? (() => new Date());

  // 1. One read, one descriptor, never through a link (the scan found none; one may be planted since).
  const link = linkAbove(options.root, path);
  if (link) return { status: 'skipped', path, reason: `${link.path} is a link (to ${link.target}): not followed` };
  const abs = join(options.root, path);
  let read = await readOnce(abs, path);
  // A service rewriting it in place may have been caught mid-rewrite: read again until it holds still.
  for (let attempt = 1; attempt < 5 && !('skipped' in read); attempt += 1) {
    if (!(await readAgain(abs, read.seen, read.bytes.length))) break;
    read = await readOnce(abs, path);
  }
  if ('skipped' in read) return { status: 'skipped', path, reason: read.skipped };
  const { bytes, mode } = read;
  // Still empty: it parses as TOML but holds nothing (a writer killed between its truncate and
  // its write, or a lost state). It never becomes the newest snapshot, which a restore would
  // lay over the backup; the next change is snapshotted.
  if (bytes.length === 0)
    return {
      status: 'skipped',
      path,
      reason:
        'empty (0 bytes): a writer caught between truncating and writing it, or a lost state; the newest snapshot stays the last one with content',
    };
  const takenAt = now();

  // 2. Validate and hash the bytes we hold; these and only these get written.
  const sha256 = sha256Buffer(bytes);
  const check = validateToml(bytes);
  if (!check.ok) return { status: 'invalid', path, reason: check.reason, sha256 };

  // 3. Same content as the newest snapshot: nothing to do.
  const newest = await catalog.newest(path);
  if (newest && newest.sha256 === sha256) {
    return { status: 'unchanged', path, snapshot: snapshotRelPath(path, newest.name.stamp, newest.name.seq), sha256 };
  }

  const stamp = formatStamp(takenAt);
  const sameSecond = (await catalog.names(path)).filter((n) => n.stamp === stamp);
  let seq = sameSecond.length === 0 ? 0 : Math.max(...sameSecond.map((n) => n.seq)) + 1;
  if (options.dryRun)
    return { status: 'would-write', path, snapshot: snapshotRelPath(path, stamp, seq), bytes: bytes.length, sha256 };

  // 4. Temp file beside the final name, fsynced; then publish without ever replacing a name.
  const dir = snapshotDirFor(options.backupDir, path);
  const base = posix.basename(path);
  const tmp = tempSibling(join(dir, base));
  let published = false;
  try {
    await makeDirDurably(dir);
    await writeDurably(tmp, bytes, mode);
    seq = await publishNoReplace(tmp, (s) => join(dir, snapshotFileName(base, stamp, s)), seq);
    published = true;
    await rm(tmp, { force: true });
    await fsyncDir(dir);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => {});
    throw writeFailed(
      path,
      options.backupDir,
      dir,
      error,
      published ? join(dir, snapshotFileName(base, stamp, seq)) : null,
    );
  }
  const file = join(dir, snapshotFileName(base, stamp, seq));
  await catalog.add(path, { base, stamp, seq, takenAt: parseStamp(stamp)! }, file, sha256);
  return { status: 'written', path, snapshot: snapshotRelPath(path, stamp, seq), bytes: bytes.length, sha256, takenAt };
}

async function readOnce(
  abs: string,
  path: string,
): Promise<{ bytes: Buffer; mode: number; seen: SeenFile } | { skipped: string }> {
  let handle;
  try {
    // O_NONBLOCK: a FIFO planted where a state file should be must not hang the run.
    // O_NOFOLLOW: a link planted there is not followed (ELOOP).
    handle = await open(abs, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { skipped: 'gone before it could be read' };
    if (code === 'ELOOP') return { skipped: 'it is a link: not followed' };
    throw new ArkError(
      'SNAPSHOT_READ_FAILED',
      `cannot read state file ${path}: ${failureText(error)}${code === 'EACCES' || code === 'EPERM' ? '. Fix its permissions' : ''}; no snapshot of it was taken.`,
      { cause: error, details: { path } },
    );
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) return { skipped: 'not a regular file' };
    return { bytes: await handle.readFile(), mode: (info.mode & 0o666) | 0o600, seen: info };
  } catch (error) {
    throw new ArkError(
      'SNAPSHOT_READ_FAILED',
      `cannot read state file ${path}: ${failureText(error)}; no snapshot of it was taken.`,
      { cause: error, details: { path } },
    );
  } finally {
    await handle.close();
  }
}

/** mkdir -p, and fsync the parent of each folder it created, so a first snapshot survives a crash. */
async function makeDirDurably(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; d !== dirname(first); ) {
    d = dirname(d);
    await fsyncDir(d);
  }
}

async function writeDurably(tmp: string, bytes: Buffer, mode: number): Promise<void> {
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** link(2) fails rather than replace an existing name; on a file system without hard links, rename if still free. */
async function publishNoReplace(tmp: string, nameFor: (seq: number) => string, firstSeq: number): Promise<number> {
  for (let seq = firstSeq; seq <= MAX_SEQ; seq++) {
    const target = nameFor(seq);
    try {
      await link(tmp, target);
      return seq;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
      if (
        await lstat(target).then(
          () => true,
          () => false,
        )
      )
        continue;
      await rename(tmp, target);
      return seq;
    }
  }
  throw new ArkError(
    'SNAPSHOT_NAME_EXHAUSTED',
    `more than ${MAX_SEQ + 1} snapshots of one file in one second: ${nameFor(0)}`,
  );
}

function writeFailed(path: string, backupDir: string, dir: string, error: unknown, published: string | null): ArkError {
  const code = (error as NodeJS.ErrnoException).code;
  if (error instanceof ArkError) return error;
  if (published !== null) {
    // The content was fsynced before the link: the snapshot is complete, only its folder entry may not be durable yet.
    return new ArkError(
      'SNAPSHOT_NOT_DURABLE',
      `wrote ${published} (complete and valid) but could not sync its folder: ${failureText(error)}. Check the backup disk.`,
      { cause: error, details: { path } },
    );
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new ArkError(
      'DISK_FULL',
      `no space left in ${backupDir} while writing the snapshot of ${path} (${code}). Nothing was published for it and its temp file was removed; free space there and run again.`,
      {
        cause: error,
        details: { path, errno: code },
      },
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new ArkError(
    'SNAPSHOT_WRITE_FAILED',
    `cannot write the snapshot of ${path} in ${dir}: ${reason}. Nothing was published for it.`,
    { cause: error, details: { path, ...(code ? { errno: code } : {}) } },
  );
}
