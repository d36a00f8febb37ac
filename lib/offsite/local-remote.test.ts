import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import { localRemote } from './local-remote.ts';
import { bodyOf } from './testing/bodies.ts';
import { describeRemoteConformance } from './testing/remote-conformance.ts';
import { mountTmpfs } from './testing/tmpfs.ts';

describeRemoteConformance('local folder', async () => localRemote(await tempDir('ark-local-remote-')));

describe('local remote failures', () => {
  it('disk full: REMOTE_NO_SPACE, not retried, no temp file left, the old copy intact', async () => {
    const fs = await mountTmpfs('1m');
    try {
      const remote = localRemote(fs.dir);
      await remote.put('old_20261124.gpg', bodyOf('old good copy'));
      await expect(remote.put('big_20261125.gpg', bodyOf(randomBytes(2 * 1024 * 1024)))).rejects.toMatchObject({
        code: 'REMOTE_NO_SPACE',
        retryable: false,
        exitCode: 1,
        message: expect.stringContaining(fs.dir),
      });
      expect(await readdir(fs.dir)).toEqual(['old_20261124.gpg']);
    } finally {
      await fs.unmount();
    }
  });

  it('a missing target folder (unmounted disk) is refused, never created', async () => {
    const missing = join(await tempDir(), 'not-mounted');
    const remote = localRemote(missing);
    await expect(remote.put('a.gpg', bodyOf('x'))).rejects.toMatchObject({
      code: 'REMOTE_TARGET_MISSING',
      retryable: false,
    });
    await expect(remote.list()).rejects.toMatchObject({ code: 'REMOTE_TARGET_MISSING' });
    await expect(readdir(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('permission denied on a read-only target: REMOTE_ACCESS_DENIED', async () => {
    // Root ignores file modes, so use a read-only bind... a tmpfs remounted read-only does the job.
    const fs = await mountTmpfs('1m');
    try {
      await mkdir(join(fs.dir, 'ro'));
      await writeFile(join(fs.dir, 'ro', 'keep.gpg'), 'keep');
      await chmod(join(fs.dir, 'ro'), 0o555);
      const { execFile } = await import('node:child_process');
      await new Promise<void>((resolve, reject) =>
        execFile('mount', ['-o', 'remount,ro', fs.dir], (error) => (error ? reject(error) : resolve())),
      );
      const remote = localRemote(join(fs.dir, 'ro'));
      await expect(remote.put('a.gpg', bodyOf('x'))).rejects.toMatchObject({
        code: 'REMOTE_ACCESS_DENIED',
        retryable: false,
      });
      await expect(remote.delete('keep.gpg')).rejects.toMatchObject({ code: 'REMOTE_ACCESS_DENIED' });
      expect((await remote.list()).map((e) => e.name)).toEqual(['keep.gpg']);
    } finally {
      await fs.unmount();
    }
  });
});
