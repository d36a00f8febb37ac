import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { digestStream } from './digest-stream.ts';
import { classifyRsyncFailure, type RsyncFailure } from './classify-rsync-failure.ts';
import { BodySizeError, sized } from './exact-size.ts';
import { isRemoteName, type PutBody, type Remote, type RemoteDigest, type RemoteEntry } from './remote.ts';
import { invalidName, RemoteError, type RemoteOperation } from './remote-error.ts';
import { sshCommand, type SshOptions } from './ssh-command.ts';

export interface RsyncTarget {
  user?: string;
  host: string;
  /** Folder on the host; it must exist. */
  path: string;
}

export interface RsyncRemoteOptions {
  target: RsyncTarget;
  ssh?: SshOptions;
  /** rsync --timeout: seconds without I/O before giving up. Default 60. */
  ioTimeoutSec?: number;
  rsyncPath?: string;
  /** Local scratch folder (spooled uploads, downloads). Default: the OS temp folder. */
  tmpDir?: string;
}

/**
 * A folder on an ssh host, driven only through rsync (as the runbook does), so it works with
 * an account restricted to rsync (rrsync): no remote shell commands. rsync always runs with
 * an argument array (no local shell), -s so that remote paths are not re-parsed by the
 * remote shell, and ssh in BatchMode with timeouts.
 *
 * Atomic publish: rsync (without --inplace/--partial, which we never pass) writes
 * ".<name>.XXXXXX" in the target folder and renames it over <name> only once the whole file
 * arrived and its transfer checksum matched; -I forces a transfer even when size and mtime
 * look unchanged. Verification reads the file back over ssh and hashes it (rsync has no
 * sha256 of its own and we run no remote commands).
 */
export function rsyncRemote(options: RsyncRemoteOptions): Remote {
  const { target: t } = options;
  const folder = t.path.endsWith('/') ? t.path.slice(0, -1) || '/' : t.path;
  const spec = `${t.user ? `${t.user}@` : ''}${t.host}:${folder}`;
  const target = spec;
  const rsh = sshCommand(options.ssh ?? {});
  const common = ['-s', `--timeout=${options.ioTimeoutSec ?? 60}`, '-e', rsh];
  const remotePath = (name: string) => `${spec}${folder.endsWith('/') ? '' : '/'}${name}`;
  const checked = (operation: RemoteOperation, name: string) => {
    if (!isRemoteName(name)) throw invalidName(target, operation, name);
    return remotePath(name);
  };
  const scratch = () => mkdtemp(join(options.tmpDir ?? tmpdir(), 'ark-rsync-'));
  const rsync = (operation: RemoteOperation, name: string | undefined, args: string[]) =>
    run(options.rsyncPath ?? 'rsync', [...common, ...args], {
      target,
      operation,
      ...(name === undefined ? {} : { name }),
    });

  const listing = async (operation: RemoteOperation, path: string, name?: string): Promise<RemoteEntry[]> => {
    const { stdout } = await rsync(operation, name, ['--list-only', path]);
    return parseListing(stdout);
  };

  const get = async (name: string): Promise<Readable> => {
    const path = checked('get', name);
    const dir = await scratch();
    try {
      await rsync('get', name, [path, join(dir, name)]);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    const stream = createReadStream(join(dir, name));
    stream.once('close', () => void rm(dir, { recursive: true, force: true }));
    return stream;
  };

  return {
    target,
    get,
    async list() {
      const entries = await listing('list', `${spec}/`);
      return entries.sort((a, b) => a.name.localeCompare(b.name));
    },
    async stat(name) {
      try {
        const [entry] = await listing('stat', checked('stat', name), name);
        return entry && entry.name === name ? entry : null;
      } catch (error) {
        if (error instanceof RemoteError && error.code === 'REMOTE_NOT_FOUND') return null;
        throw error;
      }
    },
    async put(name, body: PutBody) {
      const dest = checked('put', name);
      const dir = await scratch();
      try {
        let source = body.path;
        if (source !== undefined) {
          const size = (await stat(source)).size;
          if (size !== body.size)
            throw new RemoteError('REMOTE_BODY_SIZE', new BodySizeError(body.size, size).message, {
              target,
              operation: 'put',
              name,
              retryable: false,
            });
        } else {
          // rsync sends files, not streams: spool the body to local scratch first.
          source = join(dir, name);
          try {
            await pipeline(sized(body.open(), body.size), createWriteStream(source, { mode: 0o600 }));
          } catch (error) {
            const code = error instanceof BodySizeError ? 'REMOTE_BODY_SIZE' : 'REMOTE_BODY_FAILED';
            throw new RemoteError(code, `${(error as Error).message}; nothing was sent`, {
              target,
              operation: 'put',
              name,
              retryable: false,
              cause: error,
            });
          }
        }
        await rsync('put', name, ['-I', '-p', '--chmod=F600', source, dest]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    async digest(name): Promise<RemoteDigest> {
      checked('digest', name);
      return { ...(await digestStream(await get(name))), method: 'read-back' };
    },
    async delete(name) {
      checked('delete', name);
      // Sync an empty folder onto the target with a filter that lets --delete see only <name>.
      const dir = await scratch();
      try {
        await rsync('delete', name, [
          '-d',
          '--delete',
          '--existing',
          `--include=/${name}`,
          '--exclude=*',
          `${dir}/`,
          `${spec}/`,
        ]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/** `--list-only` lines: "-rw-r--r--          1,234 2026/11/26 04:22:07 name". Regular files only. */
export function parseListing(stdout: string): RemoteEntry[] {
  const entries: RemoteEntry[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^-\S{9}\s+([\d,.]+)\s+\S+\s+\S+\s(.+)$/.exec(line);
    if (m) entries.push({ name: m[2]!, size: Number(m[1]!.replace(/[,.]/g, '')) });
  }
  return entries;
}

interface RunResult {
  stdout: string;
  stderr: string;
}

/** rsync with an argument array; a non-zero exit becomes a classified RemoteError. */
function run(
  command: string,
  args: string[],
  where: { target: string; operation: RemoteOperation; name?: string },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < 64 * 1024) stderr += chunk;
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      const failure: RsyncFailure = { exitCode: null, stderr: '', spawnError: error.code ?? error.message };
      reject(classifyRsyncFailure(failure, where));
    });
    child.once('close', (code) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(classifyRsyncFailure({ exitCode: code, stderr }, where));
    });
  });
}
