// scripts/remote-sync.mts, run as an operator runs it: a subprocess against a local folder,
// a real sshd (rsync over ssh) and a real S3 server (s3rver), all on 127.0.0.1.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeEncrypted } from '../lib/offsite/testing/encrypted-dir.ts';
import { startS3rver, type TestS3 } from '../lib/offsite/testing/s3rver.ts';
import { freePort, startSshd, type TestSshd } from '../lib/offsite/testing/sshd.ts';
import { tempDir } from '../lib/testing.ts';
import { envelopeOf, resultOf, runScript, type ScriptRun } from './testing.ts';

const run = promisify(execFile);
const states = (date: string) => `arkalia_states_${date}.tar.gz.gpg`;
const SECRET = 'sekret-never-printed-7f3a';

const sync = (args: string[], env?: Record<string, string>) =>
  runScript('remote-sync', args, env, { timeoutMs: 60_000 });

async function backupDirWith(
  files: Record<string, string>,
  options?: Parameters<typeof writeEncrypted>[2],
): Promise<{ backupDir: string; args: string[] }> {
  const backupDir = await tempDir('ark-sync-script-');
  await writeEncrypted(backupDir, files, options);
  return { backupDir, args: ['--root', backupDir, '--backup-dir', backupDir] };
}

function expectClean(outcome: ScriptRun): void {
  expect(outcome.stderr).not.toMatch(/^\s+at /m);
  expect(`${outcome.stdout}${outcome.stderr}`).not.toContain(SECRET);
}

let sshd: TestSshd;
let s3: TestS3;
beforeAll(async () => {
  [sshd, s3] = await Promise.all([
    startSshd({ lifetimeSec: 240 }),
    startS3rver({ buckets: ['offsite'], lifetimeMs: 240_000 }),
  ]);
}, 30_000);
afterAll(async () => {
  await Promise.all([sshd?.stop(), s3?.stop()]);
});

describe('remote-sync.mts', () => {
  it('--help states the deletion rule and the environment; bad usage is exit 2 without a stack trace', async () => {
    const help = await sync(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Deletion rule \(never delete the last good offsite copy\)/);
    expect(help.stdout).toMatch(/newest copy of each kind\s+is never deleted/);
    for (const name of [
      'ARK_OFFSITE',
      'ARK_SSH_PORT',
      'ARK_SSH_KEY',
      'ARK_S3_ENDPOINT',
      'AWS_ACCESS_KEY_ID',
      '--dry-run',
    ])
      expect(help.stdout).toContain(name);
    const { args } = await backupDirWith({});
    for (const [extra, env, message] of [
      [[], {}, /missing --to/],
      [['--to', 'backup::module'], {}, /rsync daemon/],
      [['--to', 's3://offsite/x'], {}, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/],
    ] as const) {
      const outcome = await sync([...args, ...extra], env);
      expect(outcome.code, outcome.stderr).toBe(2);
      expect(outcome.stderr).toMatch(message);
      expectClean(outcome);
    }
  });

  it('to a local folder: --json result with what metrics need; a second run uploads nothing; --dry-run changes nothing', async () => {
    const { backupDir, args } = await backupDirWith({ [states('20261124')]: 'one', [states('20261125')]: 'two' });
    const target = join(await tempDir('ark-offsite-'), 'mnt');
    await mkdir(target);
    const first = await sync([...args, '--to', target, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const envelope = envelopeOf(first, 'remote-sync');
    expect(envelope).toMatchObject({ ok: true, exit_code: 0 });
    const result = envelope.result!;
    expect(result).toMatchObject({
      target,
      files_uploaded: 2,
      bytes_uploaded: 6,
      remote: { files: 2, bytes: 6 },
      succeeded_at: expect.any(String),
    });
    expect(first.stderr).toMatch(/✓ verified on the remote: arkalia_states_20261125/);
    const second = resultOf(await sync([...args, '--to', target, '--json']), 'remote-sync');
    expect(second).toMatchObject({ files_uploaded: 0, deleted: [] });

    await writeEncrypted(backupDir, { [states('20261126')]: 'three' });
    const before = (await readdir(target)).sort();
    const dry = await sync([...args, '--dry-run'], { ARK_OFFSITE: target });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/upload\s+arkalia_states_20261126\.tar\.gz\.gpg \(5 B\): not on the remote/);
    expect(dry.stderr).toMatch(/delete\s+arkalia_states_20261124\.tar\.gz\.gpg .*newer verified copy/);
    expect(dry.stderr).toMatch(/\[dry run\] nothing was changed/);
    expect((await readdir(target)).sort()).toEqual(before);
  });

  it('a corrupted local archive is not sent: exit 3, named', async () => {
    const { args } = await backupDirWith(
      { [states('20261125')]: 'good', [states('20261126')]: 'bad' },
      { corrupt: [states('20261126')] },
    );
    const target = await tempDir('ark-offsite-');
    const outcome = await sync([...args, '--to', target]);
    expect(outcome.code).toBe(3);
    expect(outcome.stderr).toMatch(/arkalia_states_20261126\.tar\.gz\.gpg: sha256 .* does not match/);
    expect((await readdir(target)).sort()).toEqual(['SHA256SUMS', states('20261125')]);
  });

  it('to S3 (s3rver, path-style, credentials from the environment only); access denied is exit 1 naming the target', async () => {
    const { args } = await backupDirWith({ [states('20261124')]: 'one', [states('20261125')]: 'two' });
    const env = { ...s3.env, AWS_SECRET_ACCESS_KEY: SECRET };
    const outcome = await sync([...args, '--to', 's3://offsite/arkalia/encrypted'], env);
    expect(outcome.code, outcome.stderr).toBe(0);
    expectClean(outcome);
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: s3.credentials,
    });
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'offsite', Prefix: 'arkalia/encrypted/' }));
    expect(listed.Contents?.map((o) => o.Key).sort()).toEqual([
      'arkalia/encrypted/SHA256SUMS',
      `arkalia/encrypted/${states('20261124')}`,
      `arkalia/encrypted/${states('20261125')}`,
    ]);
    client.destroy();
    const again = resultOf(await sync([...args, '--to', 's3://offsite/arkalia/encrypted', '--json'], env));
    expect(again).toMatchObject({ files_uploaded: 0 });

    const denied = await sync([...args, '--to', 's3://offsite/arkalia/encrypted'], {
      ...env,
      AWS_ACCESS_KEY_ID: 'NOT-A-KEY',
    });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(
      /✗ s3:\/\/offsite\/arkalia\/encrypted\/: list: access denied \(InvalidAccessKeyId, HTTP 403\)/,
    );
    expectClean(denied);
  });

  it('S3 endpoint down: the retries are shown, then exit 1 naming the target', async () => {
    const { args } = await backupDirWith({ [states('20261125')]: 'x' });
    const env = {
      ...s3.env,
      AWS_SECRET_ACCESS_KEY: SECRET,
      ARK_S3_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      ARK_OFFSITE_RETRIES: '2',
      ARK_OFFSITE_RETRY_DELAY_MS: '10',
    };
    const outcome = await sync([...args, '--to', 's3://offsite/x'], env);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.match(/↻ s3:\/\/offsite\/x\/: list failed \(REMOTE_UNREACHABLE/g)).toHaveLength(2);
    expect(outcome.stderr).toMatch(/✗ s3:\/\/offsite\/x\/: list: nothing answers .*gave up after 3 attempts/);
    expectClean(outcome);
  });

  it('to user@host:/path with rsync over ssh (sshd on 127.0.0.1); a key the host does not accept is exit 1 at once', async () => {
    const { args } = await backupDirWith({ [states('20261124')]: 'one', [states('20261125')]: 'two' });
    const remoteDir = await mkdtemp(join(sshd.root, 'offsite-'));
    const to = `${sshd.user}@127.0.0.1:${remoteDir}/`;
    const outcome = await sync([...args, '--to', to], sshd.env);
    expect(outcome.code, outcome.stderr).toBe(0);
    expect((await readdir(remoteDir)).sort()).toEqual(['SHA256SUMS', states('20261124'), states('20261125')]);
    expect((await run('sha256sum', ['-c', '--strict', 'SHA256SUMS'], { cwd: remoteDir })).stdout).toContain('OK');
    expect(await readFile(join(remoteDir, states('20261125')), 'utf8')).toBe('two');

    const started = Date.now();
    const denied = await sync([...args, '--to', to], { ...sshd.env, ARK_SSH_KEY: sshd.strangerKey });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/✗ .*127\.0\.0\.1:.*: list: ssh authentication to .*127\.0\.0\.1 failed/);
    expect(denied.stderr).not.toMatch(/↻/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expectClean(denied);
  });
});
