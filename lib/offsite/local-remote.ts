import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sha256File } from '../checksum/index.ts';
import { fsyncDir, linkOrCopy } from '../state/index.ts';
import { BodyReadError, BodySizeError, sized } from './exact-size.ts';
import { isRemoteName, type PutBody, type Remote, type RemoteDigest, type RemoteEntry } from './remote.ts';
import { invalidName, RemoteError, type RemoteOperation } from './remote-error.ts';

/** Prefix of an upload in progress; a leftover of a crashed run is removed by the next sync. */
export const UPLOAD_TEMP_PREFIX = '.ark-upload-';

/**
 * A folder on this machine (a mounted disk, NFS, a USB drive) as a Remote. Puts write a
 * hidden temp file beside the target, fsync it, rename it over the name and fsync the folder.
 * The folder must exist: a missing mount point must not be silently filled on the root disk.
 */
export function localRemote(dir: string): Remote {
  const target = dir;
  const fail = (operation: RemoteOperation, name: string | undefined, error: unknown) =>
    classifyFsError(target, operation, name, error);
  const checked = (operation: RemoteOperation, name: string) => {
    if (!isRemoteName(name)) throw invalidName(target, operation, name);
    return join(dir, name);
  };

  return {
    target,
    async list() {
      try {
        const entries: RemoteEntry[] = [];
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          if (!entry.isFile()) continue;
          entries.push({ name: entry.name, size: (await stat(join(dir, entry.name))).size });
        }
        return entries.sort((a, b) => a.name.localeCompare(b.name));
      } catch (error) {
        throw fail('list', undefined, error);
      }
    },
    async stat(name) {
      const path = checked('stat', name);
      try {
        const info = await stat(path);
        return info.isFile() ? { name, size: info.size } : null;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw fail('stat', name, error);
      }
    },
    async put(name, body: PutBody) {
      const path = checked('put', name);
      await assertFolder(target, dir, 'put', name);
      const tmp = join(dir, `${UPLOAD_TEMP_PREFIX}${name}.${randomBytes(4).toString('hex')}`);
      try {
        const out = createWriteStream(tmp, { flags: 'wx', mode: 0o600, flush: true });
        await pipeline(sized(body.open(), body.size), out);
        await rename(tmp, path);
        await fsyncDir(dir);
      } catch (error) {
        await rm(tmp, { force: true }).catch(() => {});
        throw fail('put', name, error);
      }
    },
    async copy(from, to) {
      const source = checked('copy', from);
      const path = checked('copy', to);
      await assertFolder(target, dir, 'copy', to);
      const tmp = join(dir, `${UPLOAD_TEMP_PREFIX}${to}.${randomBytes(4).toString('hex')}`);
      try {
        await linkOrCopy(source, tmp); // the same bytes, no new space, where the folder allows links
        await rename(tmp, path);
        await fsyncDir(dir);
      } catch (error) {
        await rm(tmp, { force: true }).catch(() => {});
        throw fail('copy', to, error);
      }
    },
    async get(name) {
      const path = checked('get', name);
      try {
        await stat(path);
      } catch (error) {
        throw fail('get', name, error);
      }
      return createReadStream(path) as Readable;
    },
    async digest(name): Promise<RemoteDigest> {
      const path = checked('digest', name);
      try {
        const { sha256, bytes } = await sha256File(path);
        return { size: bytes, sha256, method: 'read-back' };
      } catch (error) {
        throw fail('digest', name, error);
      }
    },
    async delete(name) {
      const path = checked('delete', name);
      try {
        await rm(path, { force: true });
      } catch (error) {
        throw fail('delete', name, error);
      }
    },
  };
}

async function assertFolder(target: string, dir: string, operation: RemoteOperation, name: string): Promise<void> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) {
    throw new RemoteError(
      'REMOTE_TARGET_MISSING',
      `folder ${dir} does not exist: create it, or mount the offsite disk (nothing is written to a missing mount point)`,
      { target, operation, name, retryable: false },
    );
  }
}

/** errno -> a RemoteError that says what to do. I/O errors and busy files are worth a retry; the rest are not. */
export function classifyFsError(
  target: string,
  operation: RemoteOperation,
  name: string | undefined,
  error: unknown,
): RemoteError {
  if (error instanceof RemoteError) return error;
  const options = { target, operation, ...(name === undefined ? {} : { name }), cause: error };
  if (error instanceof BodySizeError)
    return new RemoteError('REMOTE_BODY_SIZE', `${error.message}; nothing was committed`, {
      ...options,
      retryable: false,
    });
  if (error instanceof BodyReadError)
    return new RemoteError('REMOTE_BODY_FAILED', `${error.message}; nothing was committed`, {
      ...options,
      retryable: false,
    });
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return operation === 'list'
        ? new RemoteError('REMOTE_TARGET_MISSING', `folder ${target} does not exist`, { ...options, retryable: false })
        : new RemoteError('REMOTE_NOT_FOUND', 'no such file on the remote', { ...options, retryable: false });
    case 'ENOSPC':
    case 'EDQUOT':
      return new RemoteError(
        'REMOTE_NO_SPACE',
        `no space left on the target (${code}): free space or use a larger disk; nothing was committed`,
        { ...options, retryable: false },
      );
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new RemoteError(
        'REMOTE_ACCESS_DENIED',
        `permission denied (${code}): check the owner and mode of ${target}`,
        { ...options, retryable: false },
      );
    case 'EIO':
    case 'EBUSY':
    case 'EAGAIN':
    case 'ETIMEDOUT':
    case 'ESTALE':
      return new RemoteError('REMOTE_TRANSIENT', `I/O error (${code})`, { ...options, retryable: true });
    default:
      return new RemoteError('REMOTE_FAILED', `${(error as Error)?.message ?? String(error)}`, {
        ...options,
        retryable: false,
      });
  }
}
