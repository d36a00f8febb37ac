import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingSink } from '../events.ts';
import { parseListing, rsyncRemote } from './rsync-remote.ts';
import type { RemoteError } from './remote-error.ts';
import { bodyOf } from './testing/bodies.ts';
import { describeRemoteConformance } from './testing/remote-conformance.ts';
import { freePort, startSshd, type TestSshd } from './testing/sshd.ts';
import { withRetry } from './with-retry.ts';

// A real OpenSSH server on 127.0.0.1 (started here, stopped in afterAll, dead after 180 s
// whatever happens) and the real rsync client talking to it.
let sshd: TestSshd;
beforeAll(async () => {
  sshd = await startSshd({ lifetimeSec: 180 });
}, 20_000);
afterAll(async () => {
  await sshd?.stop();
});

const folder = async () => mkdtemp(join(sshd.root, 'target-'));
const remoteAt = (path: string, ssh = sshd.ssh) =>
  rsyncRemote({ target: { user: sshd.user, host: sshd.host, path }, ssh });

describeRemoteConformance('rsync over ssh', async () => remoteAt(await folder()), { copy: false });

describe('rsync remote failures', () => {
  it('ssh authentication failure is permanent and names the host (one attempt, no retries)', async () => {
    const retries: unknown[] = [];
    const remote = withRetry(remoteAt(await folder(), { ...sshd.ssh, identityFile: sshd.strangerKey }), {
      onRetry: (i) => retries.push(i),
      sleep: async () => {},
    });
    await expect(remote.list()).rejects.toMatchObject({
      code: 'REMOTE_AUTH_FAILED',
      retryable: false,
      message: expect.stringContaining(`${sshd.user}@127.0.0.1`),
    });
    expect(retries).toEqual([]);
  });

  it('an unknown host key is refused (no trust on first use in batch mode)', async () => {
    const empty = join(await folder(), 'known_hosts_empty');
    await expect(remoteAt(await folder(), { ...sshd.ssh, knownHostsFile: empty }).list()).rejects.toMatchObject({
      code: 'REMOTE_HOST_KEY',
      retryable: false,
    });
  });

  it('nothing listening: retried with backoff, then REMOTE_UNREACHABLE naming the target', async () => {
    const port = await freePort();
    const sink = recordingSink();
    const delays: number[] = [];
    const remote = withRetry(
      rsyncRemote({ target: { user: sshd.user, host: '127.0.0.1', path: '/srv/none' }, ssh: { ...sshd.ssh, port } }),
      {
        policy: { retries: 2 },
        sleep: async (ms) => void delays.push(ms),
        random: () => 0.5,
        onRetry: (info) =>
          sink({ kind: 'info', message: `${info.operation} attempt ${info.attempt}: ${info.error.code}` }),
      },
    );
    await expect(remote.put('a.gpg', bodyOf('x'))).rejects.toMatchObject({
      code: 'REMOTE_UNREACHABLE',
      retryable: false,
      message: expect.stringMatching(/127\.0\.0\.1:\/srv\/none: put a\.gpg: cannot reach .*gave up after 3 attempts/),
    });
    expect(delays).toEqual([500, 1000]);
    expect(sink.events.map((e) => (e as { message: string }).message)).toEqual([
      'put attempt 1: REMOTE_UNREACHABLE',
      'put attempt 2: REMOTE_UNREACHABLE',
    ]);
  });

  it('a missing remote folder is reported, not created', async () => {
    const missing = join(await folder(), 'nope');
    const remote = remoteAt(missing);
    const put = await remote.put('a.gpg', bodyOf('x')).catch((e: unknown) => e as RemoteError);
    expect({ code: put?.code, retryable: put?.retryable }, put?.message).toEqual({
      code: 'REMOTE_TARGET_MISSING',
      retryable: false,
    });
    await expect(remote.list()).rejects.toMatchObject({ code: 'REMOTE_TARGET_MISSING' });
    await expect(readdir(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('leaves subfolders and dotfiles alone when deleting', async () => {
    const dir = await folder();
    await mkdir(join(dir, 'sub'));
    const remote = remoteAt(dir);
    await remote.put('a.gpg', bodyOf('a'));
    await remote.delete('a.gpg');
    expect(await readdir(dir)).toEqual(['sub']);
  });
});

describe('parseListing', () => {
  it('reads rsync --list-only lines, regular files only, sizes with digit grouping', () => {
    const out =
      'drwx------          4,096 2026/11/26 04:22:08 .\n-rw-------      1,234,567 2026/11/26 04:22:07 arkalia_states_20261125.tar.gz.gpg\n-rw-r--r--              3 2026/11/26 04:22:07 SHA256SUMS\nlrwxrwxrwx              3 2026/11/26 04:22:07 link\n';
    expect(parseListing(out)).toEqual([
      { name: 'arkalia_states_20261125.tar.gz.gpg', size: 1234567 },
      { name: 'SHA256SUMS', size: 3 },
    ]);
  });
});
