import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { sha256Buffer } from '../../checksum/index.ts';
import { tempDir } from '../../testing.ts';
import { fetchToFile } from '../fetch-to-file.ts';
import type { Remote } from '../remote.ts';
import { withFaults } from '../with-faults.ts';
import { bodyOf, failingBody, lyingBody, pausedBody } from './bodies.ts';

export interface ConformanceOptions {
  /** Size of the "large" file (S3: above the part size, to go multipart). Default 1 MiB. */
  largeSize?: number;
  /** Whether the backend copies on the remote side (default true; rsync: false, a second name is uploaded). */
  copy?: boolean;
}

/**
 * THE contract of a Remote: every backend (local, rsync, s3) runs this same suite against a
 * real server. `makeRemote` returns a fresh, empty, existing folder each time.
 */
export function describeRemoteConformance(
  label: string,
  makeRemote: () => Promise<Remote>,
  options: ConformanceOptions = {},
): void {
  const largeSize = options.largeSize ?? 1024 * 1024;

  describe(`Remote conformance: ${label}`, () => {
    it('an empty folder lists nothing; a missing file: stat null, get/digest REMOTE_NOT_FOUND, delete succeeds', async () => {
      const remote = await makeRemote();
      expect(await remote.list()).toEqual([]);
      expect(await remote.stat('absent.gpg')).toBeNull();
      await expect(remote.get('absent.gpg')).rejects.toMatchObject({ code: 'REMOTE_NOT_FOUND', retryable: false });
      await expect(remote.digest('absent.gpg')).rejects.toMatchObject({ code: 'REMOTE_NOT_FOUND', retryable: false });
      await remote.delete('absent.gpg');
      expect(remote.target).not.toMatch(/S3RVER|secret/i);
    });

    it('put then list, stat, get and digest give back exactly the bytes (empty and large files too)', async () => {
      const remote = await makeRemote();
      const small = Buffer.from('arkalia offsite copy\n');
      const large = randomBytes(largeSize);
      await remote.put('a_20261124.gpg', bodyOf(small, { withSha256: true }));
      await remote.put('b_20261125.gpg', bodyOf(large));
      await remote.put('empty', bodyOf(Buffer.alloc(0)));
      expect(await remote.list()).toEqual([
        { name: 'a_20261124.gpg', size: small.length },
        { name: 'b_20261125.gpg', size: large.length },
        { name: 'empty', size: 0 },
      ]);
      expect(await remote.stat('b_20261125.gpg')).toEqual({ name: 'b_20261125.gpg', size: large.length });
      expect(await readAll(await remote.get('a_20261124.gpg'))).toEqual(small);
      expect((await readAll(await remote.get('b_20261125.gpg'))).equals(large)).toBe(true);
      expect(await remote.digest('b_20261125.gpg')).toMatchObject({ size: large.length, sha256: sha256Buffer(large) });
      expect(await remote.digest('empty')).toMatchObject({ size: 0, sha256: sha256Buffer('') });
    });

    it('copy (when the backend has it) stores the same bytes under a second name, on the remote side', async () => {
      const remote = await makeRemote();
      expect(remote.copy !== undefined).toBe(options.copy ?? true);
      if (!remote.copy) return; // rsync: a second name is an upload (see remote.ts)
      const bytes = randomBytes(4096);
      await remote.put('a_20261124.gpg', bodyOf(bytes));
      await remote.copy('a_20261124.gpg', 'a_20261124_1300.gpg');
      expect((await remote.list()).map((e) => e.name).sort()).toEqual(['a_20261124.gpg', 'a_20261124_1300.gpg']);
      expect(await remote.digest('a_20261124_1300.gpg')).toMatchObject({ size: 4096, sha256: sha256Buffer(bytes) });
      await remote.delete('a_20261124.gpg');
      expect((await readAll(await remote.get('a_20261124_1300.gpg'))).equals(bytes)).toBe(true);
      await expect(remote.copy('absent.gpg', 'b.gpg')).rejects.toMatchObject({ code: 'REMOTE_NOT_FOUND' });
      expect(await remote.stat('b.gpg')).toBeNull();
    });

    it('replaces a file atomically: while an upload is in flight readers see the old file, never a part', async () => {
      const remote = await makeRemote();
      const v1 = Buffer.from('version one\n');
      const v2 = randomBytes(256 * 1024);
      await remote.put('state.gpg', bodyOf(v1));
      const paused = pausedBody(v2);
      const upload = remote.put('state.gpg', paused.body);
      await paused.halfway;
      expect(await remote.stat('state.gpg')).toEqual({ name: 'state.gpg', size: v1.length });
      expect(await readAll(await remote.get('state.gpg'))).toEqual(v1);
      expect((await remote.list()).filter((e) => !e.name.startsWith('.')).map((e) => e.name)).toEqual(['state.gpg']);
      paused.release();
      await upload;
      expect((await remote.digest('state.gpg')).sha256).toBe(sha256Buffer(v2));
    });

    it('a body that fails midway, or has more or fewer bytes than declared, commits nothing', async () => {
      // A failed put may leave a hidden ".ark-upload-*" temp (s3rver keeps a half-written temp
      // key when the client aborts; the next sync removes it), never anything under a real name.
      const visible = async () => (await remote.list()).filter((e) => !e.name.startsWith('.'));
      const remote = await makeRemote();
      const v1 = Buffer.from('good copy\n');
      await remote.put('x.gpg', bodyOf(v1));
      const before = await visible();
      const data = randomBytes(64 * 1024);
      await expect(remote.put('x.gpg', failingBody(data, 1000))).rejects.toMatchObject({
        retryable: false,
        target: remote.target,
      });
      await expect(remote.put('x.gpg', lyingBody(data, data.length + 10))).rejects.toMatchObject({
        code: 'REMOTE_BODY_SIZE',
      });
      await expect(remote.put('y.gpg', lyingBody(data, data.length - 10))).rejects.toMatchObject({
        code: 'REMOTE_BODY_SIZE',
      });
      expect(await visible()).toEqual(before);
      expect(await readAll(await remote.get('x.gpg'))).toEqual(v1);
    });

    it('refuses names that could leave the folder or read as options', async () => {
      const remote = await makeRemote();
      for (const name of ['../escape', 'a/b', '-rf', '', '.', '..', 'x*', 'sp ace']) {
        await expect(remote.put(name, bodyOf('x'))).rejects.toMatchObject({
          code: 'REMOTE_INVALID_NAME',
          retryable: false,
        });
        await expect(remote.stat(name)).rejects.toMatchObject({ code: 'REMOTE_INVALID_NAME' });
        await expect(remote.delete(name)).rejects.toMatchObject({ code: 'REMOTE_INVALID_NAME' });
      }
      expect(await remote.list()).toEqual([]);
    });

    it('delete removes that file only, and is idempotent', async () => {
      const remote = await makeRemote();
      await remote.put('keep_20261124.gpg', bodyOf('keep'));
      await remote.put('drop_20261124.gpg', bodyOf('drop'));
      await remote.delete('drop_20261124.gpg');
      await remote.delete('drop_20261124.gpg');
      expect((await remote.list()).map((e) => e.name)).toEqual(['keep_20261124.gpg']);
    });

    it('fetchToFile writes a verified copy, and leaves nothing when a bit flips on the way', async () => {
      const remote = await makeRemote();
      const data = randomBytes(100_000);
      await remote.put('arkalia_states_20261125.tar.gz.gpg', bodyOf(data));
      const dir = await tempDir('ark-fetch-');
      const dest = join(dir, 'arkalia_states_20261125.tar.gz.gpg');
      const expected = { sha256: sha256Buffer(data), size: data.length };
      const flipped = withFaults(remote, { flipBitOnRead: true, flipOffset: 5000 });
      await expect(fetchToFile(flipped, 'arkalia_states_20261125.tar.gz.gpg', dest, expected)).rejects.toMatchObject({
        code: 'OFFSITE_FETCH_MISMATCH',
        exitCode: 3,
      });
      expect(await readdir(dir)).toEqual([]);
      expect((await flipped.digest('arkalia_states_20261125.tar.gz.gpg')).sha256).not.toBe(expected.sha256);
      expect(await fetchToFile(remote, 'arkalia_states_20261125.tar.gz.gpg', dest, expected)).toMatchObject(expected);
      expect((await readFile(dest)).equals(data)).toBe(true);
      expect(await readdir(dir)).toEqual(['arkalia_states_20261125.tar.gz.gpg']);
    });
  });
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}
