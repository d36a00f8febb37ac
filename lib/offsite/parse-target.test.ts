import { describe, expect, it } from 'vitest';
import { openRemote, sshOptionsFromEnv } from './open-remote.ts';
import { parseTarget } from './parse-target.ts';
import { sshCommand } from './ssh-command.ts';

describe('parseTarget', () => {
  it('reads the three kinds of target as rsync does', () => {
    expect(parseTarget('s3://ark-backups/offsite/daily/')).toEqual({
      kind: 's3',
      bucket: 'ark-backups',
      prefix: 'offsite/daily',
    });
    expect(parseTarget('s3://ark-backups')).toEqual({ kind: 's3', bucket: 'ark-backups', prefix: '' });
    expect(parseTarget('user@backup-server:/secure/arkalia/')).toEqual({
      kind: 'rsync',
      user: 'user',
      host: 'backup-server',
      path: '/secure/arkalia/',
    });
    expect(parseTarget('backup-server:arkalia')).toEqual({ kind: 'rsync', host: 'backup-server', path: 'arkalia' });
    expect(parseTarget('/mnt/offsite')).toEqual({ kind: 'local', path: '/mnt/offsite' });
    expect(parseTarget('./a:b', '/work')).toEqual({ kind: 'local', path: '/work/a:b' });
    expect(parseTarget('offsite', '/work')).toEqual({ kind: 'local', path: '/work/offsite' });
  });

  it('refuses what it cannot do safely, as a usage error', () => {
    for (const bad of [
      '',
      's3://Bad_Bucket/x',
      's3://b/../x',
      'sftp://host/x',
      'host::module',
      '-oProxyCommand=x:/p',
      'us;er@host:/p',
      'host:',
      'host:-rf',
    ]) {
      expect(() => parseTarget(bad), bad).toThrow(expect.objectContaining({ exitCode: 2 }));
    }
  });
});

describe('remote configuration from the environment', () => {
  it('builds the ssh command from ARK_SSH_* with batch mode and timeouts always on', () => {
    const ssh = sshOptionsFromEnv({
      ARK_SSH_PORT: '2222',
      ARK_SSH_KEY: '/keys/id ed',
      ARK_SSH_KNOWN_HOSTS: '/keys/kh',
    });
    expect(sshCommand(ssh)).toBe(
      "ssh -o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=15 -o ServerAliveCountMax=3 -p 2222 -i '/keys/id ed' -o IdentitiesOnly=yes -o 'UserKnownHostsFile=/keys/kh' -o StrictHostKeyChecking=yes",
    );
    expect(() => sshOptionsFromEnv({ ARK_SSH_PORT: '22x' })).toThrow(/ARK_SSH_PORT/);
    expect(() => sshOptionsFromEnv({ ARK_SSH_KEY: "/k'ey" })).toThrow(/ARK_SSH_KEY/);
  });

  it('requires S3 credentials in the environment and never shows them in the target', async () => {
    await expect(openRemote({ kind: 's3', bucket: 'b', prefix: 'p' }, {})).rejects.toThrow(
      /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
    await expect(
      openRemote(
        { kind: 's3', bucket: 'b', prefix: 'p' },
        { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', ARK_S3_ENDPOINT: 'ftp://x' },
      ),
    ).rejects.toThrow(/http\(s\) URL/);
    const remote = await openRemote(
      { kind: 's3', bucket: 'b', prefix: 'p' },
      { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'very-secret', ARK_S3_ENDPOINT: 'http://127.0.0.1:9' },
    );
    expect(remote.target).toBe('s3://b/p/');
    expect(JSON.stringify(remote)).not.toContain('very-secret');
  });
});
