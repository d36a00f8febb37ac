import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { TRASH_NAME } from '../layout/index.ts';
import { tempDir } from '../testing.ts';
import { makeBackup } from './testing.ts';
import { emptyTrash, moveToTrash } from './trash.ts';
import { verifyBackup } from './verify-backup.ts';

// Is a backup good, in words a prune shows; a disk that fails to read it is thrown, never
// "not good". And the crash-safe delete: rename to a hidden trash name, then remove it.

// Disk faults: a read of a path listed here fails with that error (the rest is the real fs).
const faults = vi.hoisted(() => new Map<string, unknown>());
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const faulty =
    <A extends unknown[], R>(f: (path: string, ...rest: A) => Promise<R>) =>
    (path: string, ...rest: A): Promise<R> =>
      faults.has(String(path)) ? Promise.reject(faults.get(String(path))) : f(path, ...rest);
  return { ...real, readFile: faulty(real.readFile as never), stat: faulty(real.stat as never) };
});

const DATE = '20261126';
const STATES = `arkalia_states_${DATE}.tar.gz`;
const LOGS = `arkalia_logs_${DATE}.tar.gz`;
const SUMS = `checksums_${DATE}.sha256`;

const errno = (code: string, syscall: string, path: string, message = `${code}: failed, ${syscall} '${path}'`) =>
  Object.assign(new Error(message), { code, syscall, path });

async function withFault<T>(path: string, error: unknown, f: () => Promise<T>): Promise<T> {
  faults.set(path, error);
  try {
    return await f();
  } finally {
    faults.delete(path);
  }
}

describe('verifyBackup', () => {
  it('a backup whose checksum file lists the states archive and matches is good, with its file count', async () => {
    const dir = await makeBackup(await tempDir('ark-vb-'), DATE);
    expect(await verifyBackup(dir, DATE)).toEqual({ ok: true, files: 2 });
  });

  it('names each file that does not match or is missing', async () => {
    const base = await tempDir('ark-vb-');
    expect(await verifyBackup(await makeBackup(base, DATE, 'mismatch'), DATE)).toEqual({
      ok: false,
      problem: `${LOGS}: sha256 mismatch`,
    });
    const gone = await makeBackup(base, '20261125', 'missing-archive');
    expect(await verifyBackup(gone, '20261125')).toEqual({
      ok: false,
      problem: 'arkalia_logs_20261125.tar.gz: missing',
    });
    const both = await makeBackup(base, '20261124', 'mismatch');
    await rm(join(both, 'arkalia_states_20261124.tar.gz'));
    expect(await verifyBackup(both, '20261124')).toEqual({
      ok: false,
      problem: 'arkalia_states_20261124.tar.gz: missing; arkalia_logs_20261124.tar.gz: sha256 mismatch',
    });
  });

  it('a checksum file that does not list the states archive is not good, even when all it lists matches', async () => {
    const base = await tempDir('ark-vb-');
    for (const defect of ['states-unlisted', 'empty-checksum-file'] as const) {
      const dir = await makeBackup(base, DATE, defect);
      expect(await verifyBackup(dir, DATE)).toEqual({ ok: false, problem: `${SUMS} does not list ${STATES}` });
      await rm(dir, { recursive: true });
    }
  });

  it('an absent or malformed checksum file is not good, in the words of its integrity error', async () => {
    const base = await tempDir('ark-vb-');
    const dir = await makeBackup(base, DATE, 'no-checksum-file');
    expect(await verifyBackup(dir, DATE)).toEqual({
      ok: false,
      problem: `checksum file ${join(dir, SUMS)} cannot be read, so nothing it should vouch for can be verified: ENOENT`,
    });
    await writeFile(join(dir, SUMS), 'not a checksum line\n');
    expect(await verifyBackup(dir, DATE)).toEqual({
      ok: false,
      problem: `${SUMS}: line 1 is not in sha256sum format: "not a checksum line"`,
    });
  });

  it('a listed file that cannot be read as a file is not good, with the error as it says it', async () => {
    const dir = await makeBackup(await tempDir('ark-vb-'), DATE);
    await rm(join(dir, LOGS));
    await mkdir(join(dir, LOGS));
    const result = await verifyBackup(dir, DATE);
    expect(result).toEqual({ ok: false, problem: expect.stringMatching(/^EISDIR: illegal operation on a directory/) });
  });

  it('adds the error code when the message does not say it, and takes a thrown non-error as it is', async () => {
    const dir = await makeBackup(await tempDir('ark-vb-'), DATE);
    const logs = join(dir, LOGS);
    const stale = Object.assign(new Error('stale file handle'), { code: 'ESTALE' });
    expect(await withFault(logs, stale, () => verifyBackup(dir, DATE))).toEqual({
      ok: false,
      problem: 'ESTALE: stale file handle',
    });
    expect(await withFault(logs, new Error('no code here'), () => verifyBackup(dir, DATE))).toEqual({
      ok: false,
      problem: 'no code here',
    });
    expect(await withFault(logs, 'a bare string', () => verifyBackup(dir, DATE))).toEqual({
      ok: false,
      problem: 'a bare string',
    });
  });

  it('a disk that fails to read an archive or the checksum file is thrown: no backup is deleted on it', async () => {
    const dir = await makeBackup(await tempDir('ark-vb-'), DATE);
    const logs = join(dir, LOGS);
    await expect(withFault(logs, errno('EIO', 'stat', logs), () => verifyBackup(dir, DATE))).rejects.toMatchObject({
      code: 'IO_ERROR',
      message: `verifying ${dir}: stat ${logs} failed: an I/O error (the disk or its file system failed) (EIO). No backup was deleted.`,
    });
    // Behind the checksum file's integrity error (its cause): still the disk, not the backup.
    const sums = join(dir, SUMS);
    await expect(withFault(sums, errno('EACCES', 'open', sums), () => verifyBackup(dir, DATE))).rejects.toMatchObject({
      code: 'IO_PERMISSION',
      message: `verifying ${dir}: open ${sums} failed: permission denied (EACCES). No backup was deleted.`,
    });
    expect(await verifyBackup(dir, DATE)).toEqual({ ok: true, files: 2 });
  });
});

describe('moveToTrash and emptyTrash', () => {
  it('renames a backup to a hidden trash name of its date, then removes it with all it holds', async () => {
    const base = await tempDir('ark-trash-');
    const daily = join(base, 'daily');
    await makeBackup(base, DATE);
    await makeBackup(base, '20261125');
    const trash = await moveToTrash(daily, `arkalia_${DATE}`, DATE);
    const name = trash.slice(daily.length + 1);
    expect(join(daily, name)).toBe(trash);
    expect(name).toMatch(new RegExp(`^\\.arkalia_${DATE}\\.trash-${process.pid}-[0-9a-f]{8}$`));
    expect(TRASH_NAME.exec(name)?.[1]).toBe(DATE);
    expect((await readdir(daily)).sort()).toEqual([name, 'arkalia_20261125'].sort());
    expect((await readdir(trash)).sort()).toEqual([`backup_manifest_${DATE}.json`, LOGS, STATES, SUMS].sort());
    await emptyTrash(trash);
    expect(await readdir(daily)).toEqual(['arkalia_20261125']);
  });

  it('two trash names for the same date differ; emptying a trash already gone is fine', async () => {
    const base = await tempDir('ark-trash-');
    const daily = join(base, 'daily');
    await mkdir(join(daily, 'a'), { recursive: true });
    await mkdir(join(daily, 'b'));
    const first = await moveToTrash(daily, 'a', DATE);
    const second = await moveToTrash(daily, 'b', DATE);
    expect(first).not.toBe(second);
    await emptyTrash(first);
    await expect(emptyTrash(first)).resolves.toBeUndefined();
    await expect(moveToTrash(daily, 'a', DATE)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(daily)).toEqual([second.slice(daily.length + 1)]);
  });
});
