import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBackups, selectBackup } from '../restore/index.ts';
import { tempDir } from '../testing.ts';
import {
  archiveFileName,
  listDailyBackups,
  parseArchiveFileName,
  parseBackupDirName,
  partialName,
  partialOwner,
  trashName,
  TRASH_NAME,
} from './index.ts';

async function backupTree(names: string[]): Promise<string> {
  const dir = await tempDir('ark-find-');
  for (const name of names) await mkdir(join(dir, 'daily', name), { recursive: true });
  return dir;
}

describe('findBackups / selectBackup', () => {
  it('lists published daily backups newest first, ignoring partial, replaced and foreign folders', async () => {
    const dir = await backupTree([
      'arkalia_20260101',
      'arkalia_20260315',
      'arkalia_20260214',
      '.arkalia_20260401.partial-123-456',
      'arkalia_20261301',
      'arkalia_2026031',
      'notes',
    ]);
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
    await expect(selectBackup(dir, '20260102')).rejects.toMatchObject({
      code: 'NO_BACKUP_FOR_DATE',
      exitCode: 1,
      message: expect.stringContaining('available: 20260315, 20260101'),
    });
  });

  it('fails with exit 1 when there is no backup folder at all', async () => {
    const dir = await tempDir('ark-find-');
    expect(await findBackups(join(dir, 'nowhere'))).toEqual([]);
    await expect(selectBackup(join(dir, 'nowhere'))).rejects.toMatchObject({
      code: 'NO_BACKUP',
      exitCode: 1,
      message: expect.stringContaining('no backup found in'),
    });
  });
});

describe('the names of a backup folder', () => {
  it('daily folders, partial and trash names, archives: made and read back by one place', () => {
    expect(parseBackupDirName('arkalia_20261125')).toBe('20261125');
    for (const bad of ['arkalia_20261301', 'arkalia_2026112', '.arkalia_20261125', 'arkalia_20261125.old'])
      expect(parseBackupDirName(bad), bad).toBeNull();
    expect(partialName('20261125', 42, 1700)).toBe('.arkalia_20261125.partial-42-1700');
    expect(partialOwner(partialName('20261125', 42, 1700))).toBe(42);
    expect(partialOwner(`${partialName('20261125', 42, 1700)}.replaced`)).toBe(42);
    expect(partialOwner('arkalia_20261125')).toBeNull();
    expect(TRASH_NAME.test(trashName('20261125', 7, 'beef'))).toBe(true);
    expect(archiveFileName('arkalia_states', '20261125')).toBe('arkalia_states_20261125.tar.gz');
    expect(archiveFileName('ollama_models', '20261125', 'zstd')).toBe('ollama_models_20261125.tar.zst');
    expect(parseArchiveFileName('arkalia_states', 'arkalia_states_20261125.tar.zst')).toEqual({
      date: '20261125',
      extension: '.tar.zst',
    });
    expect(parseArchiveFileName('arkalia_states', 'arkalia_logs_20261125.tar.gz')).toBeNull();
  });
});

describe('one lister, one rule for links: restore and prune agree', () => {
  it('a link named arkalia_<DATE> is not a backup for anyone: listed as ignored, never chosen by a restore, never seen by a prune', async () => {
    const dir = await backupTree(['arkalia_20260101']);
    const elsewhere = await backupTree(['arkalia_20260102']);
    await symlink(join(elsewhere, 'daily', 'arkalia_20260102'), join(dir, 'daily', 'arkalia_20260102'));
    const listing = await listDailyBackups(dir);
    expect(listing.backups.map((b) => b.date)).toEqual(['20260101']);
    expect(listing.ignored).toEqual([{ name: 'arkalia_20260102', reason: 'a symbolic link, not a backup folder' }]);
    expect((await findBackups(dir)).map((b) => b.date)).toEqual(['20260101']); // a restore's candidates
    expect((await selectBackup(dir)).date).toBe('20260101');
    await expect(selectBackup(dir, '20260102')).rejects.toMatchObject({
      code: 'NO_BACKUP_FOR_DATE',
      message: expect.stringContaining('not used: arkalia_20260102, a symbolic link, not a backup folder'),
    });
  });
});
