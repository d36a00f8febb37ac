import { spawn, execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from '../../testing.ts';
import type { SshOptions } from '../ssh-command.ts';

const run = promisify(execFile);
export const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  host: '127.0.0.1';
  port: number;
  user: string;
  /** A scratch folder on the "remote" side (it is this machine): make target folders under it. */
  root: string;
  /** What rsyncRemote needs to log in: port, the throwaway user key, a known_hosts with the host key. */
  ssh: Required<Pick<SshOptions, 'port' | 'identityFile' | 'knownHostsFile'>>;
  /** The same, as the environment remote-sync.mts reads. */
  env: Record<string, string>;
  /** A second key pair that is NOT authorized, for authentication failure tests. */
  strangerKey: string;
  logs(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Debian's OpenSSH server on 127.0.0.1, a free high port, in the foreground (-D), with a
 * generated sshd_config (-f), throwaway host and user keys, AuthorizedKeysFile in the temp
 * folder and StrictModes off. It runs under coreutils `timeout`, so it dies after
 * `lifetimeSec` even if the test process is killed before its afterAll.
 */
export async function startSshd(options: { lifetimeSec?: number } = {}): Promise<TestSshd> {
  const dir = await tempDir('ark-sshd-');
  const root = join(dir, 'remote');
  await mkdir(root);
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation folder sshd insists on
  await Promise.all(
    ['host_key', 'user_key', 'stranger_key'].map((key) =>
      run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', key, '-f', join(dir, key)]),
    ),
  );
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'user_key.pub')));
  const port = await freePort();
  const user = userInfo().username;
  await writeFile(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${user}`,
      'UseDNS no',
      'PrintMotd no',
      'MaxStartups 50:30:100',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const hostPub = (await readFile(join(dir, 'host_key.pub'), 'utf8')).trim().split(' ').slice(0, 2).join(' ');
  await writeFile(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);

  const lifetime = options.lifetimeSec ?? 180;
  const child = spawn(
    'timeout',
    ['--kill-after=5', String(lifetime), SSHD, '-D', '-e', '-f', join(dir, 'sshd_config')],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    if (log.length < 256 * 1024) log += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };
  try {
    await waitForBanner(port, child, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  const ssh = { port, identityFile: join(dir, 'user_key'), knownHostsFile: join(dir, 'known_hosts') };
  return {
    host: '127.0.0.1',
    port,
    user,
    root,
    ssh,
    env: { ARK_SSH_PORT: String(port), ARK_SSH_KEY: ssh.identityFile, ARK_SSH_KNOWN_HOSTS: ssh.knownHostsFile },
    strangerKey: join(dir, 'stranger_key'),
    logs: async () => log,
    stop,
  };
}

/** A port nothing listens on right now (bind :0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForBanner(port: number, child: ReturnType<typeof spawn>, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}:\n${log()}`);
    const banner = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.setTimeout(1_000);
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString());
      });
      socket.once('error', () => resolve(''));
      socket.once('timeout', () => {
        socket.destroy();
        resolve('');
      });
    });
    if (banner.startsWith('SSH-2.0')) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not answer on 127.0.0.1:${port} within 10 s:\n${log()}`);
}
