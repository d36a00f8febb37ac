import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import { findBackups, selectBackup } from './find-backups.ts';

async function backupTree(names: string[]): Promise<string> {
  const dir = await tempDir('ark-find-');
  for (const name of names) await mkdir(join(dir, 'daily', name), { recursive: true });
  return dir;
}

describe('findBackups / selectBackup', () => {
  it('lists published daily backups newest first, ignoring partial, replaced and foreign folders', async () => {
    const dir = await backupTree(['arkalia_20260101', 'arkalia_20260315', 'arkalia_20260214', '.arkalia_20260401.partial-123-456', 'arkalia_20261301', 'arkalia_2026031', 'notes']);
    await writeFile(join(dir, 'daily', 'arkalia_20260501'), 'a file, not a backup');
    const found = await findBackups(dir);
    expect(found.map((b) => b.date)).toEqual(['20260315', '20260214', '20260101']);
    expect(found[0]).toEqual({
      date: '20260315',
      dir: join(dir, 'daily', 'arkalia_20260315'),
      statesArchive: join(dir, 'daily', 'arkalia_20260315', 'arkalia_states_20260315.tar.gz'),
      checksumFile: join(dir, 'daily', 'arkalia_20260315', 'checksums_20260315.sha256'),
    });
  });

  it('selects the newest, or the requested date', async () => {
    const dir = await backupTree(['arkalia_20260101', 'arkalia_20260315']);
    expect((await selectBackup(dir)).date).toBe('20260315');
    expect((await selectBackup(dir, '20260101')).date).toBe('20260101');
  });

  it('fails with exit 1 naming the available dates when the date does not exist', async () => {
    const dir = await backupTree(['arkalia_20260101', 'arkalia_20260315']);
    await expect(selectBackup(dir, '20260102')).rejects.toMatchObject({ code: 'NO_BACKUP_FOR_DATE', exitCode: 1, message: expect.stringContaining('available: 20260315, 20260101') });
  });

  it('fails with exit 1 when there is no backup folder at all', async () => {
    const dir = await tempDir('ark-find-');
    expect(await findBackups(join(dir, 'nowhere'))).toEqual([]);
    await expect(selectBackup(join(dir, 'nowhere'))).rejects.toMatchObject({ code: 'NO_BACKUP', exitCode: 1, message: expect.stringContaining('no backup found in') });
  });
});
