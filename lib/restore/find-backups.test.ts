import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolvePolicy } from '../policy/index.ts';
import { tempDir } from '../testing.ts';
import { findBackups, selectBackup } from './find-backups.ts';
import { listCandidates } from './list-candidates.ts';
import { assertModuleName, MODULE_NAME } from './module-name.ts';

// Which daily backups a restore may use, and the module names it accepts: what the operator
// names on the command line and what is said back when it is not there.

/** A backup dir with real folders daily/arkalia_<date> for each date given. */
async function backupDir(dates: string[]): Promise<string> {
  const dir = await tempDir('ark-find-');
  for (const date of dates) await mkdir(join(dir, 'daily', `arkalia_${date}`), { recursive: true });
  return dir;
}

const error = async (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as { code: string; exitCode: number; message: string },
  );

describe('findBackups / selectBackup', () => {
  it('lists published backups newest first, with the states archive and checksum file each holds', async () => {
    const dir = await backupDir(['20260110', '20260112', '20260111']);
    await mkdir(join(dir, 'daily', '.arkalia_20260113.partial-1-2'));
    const refs = await findBackups(dir);
    expect(refs.map((r) => r.date)).toEqual(['20260112', '20260111', '20260110']);
    const day = join(dir, 'daily', 'arkalia_20260112');
    expect(refs[0]).toEqual({
      date: '20260112',
      dir: day,
      statesArchive: join(day, 'arkalia_states_20260112.tar.gz'),
      checksumFile: join(day, 'checksums_20260112.sha256'),
    });
  });

  it('gives none for a backup dir without daily/', async () => {
    expect(await findBackups(await tempDir('ark-find-'))).toEqual([]);
  });

  it('selects the newest when no date is named, else the dated one', async () => {
    const dir = await backupDir(['20260110', '20260112', '20260111']);
    expect((await selectBackup(dir)).date).toBe('20260112');
    const ref = await selectBackup(dir, '20260110');
    expect(ref.dir).toBe(join(dir, 'daily', 'arkalia_20260110'));
    expect(ref.statesArchive).toBe(join(ref.dir, 'arkalia_states_20260110.tar.gz'));
  });

  it('says where it looked and what to check when there is no backup (exit 1)', async () => {
    const dir = await tempDir('ark-find-');
    const e = await error(selectBackup(dir));
    expect(e).toMatchObject({ code: 'NO_BACKUP', exitCode: 1 });
    expect(e.message).toBe(
      `no backup found in ${join(dir, 'daily')} (expected folders named arkalia_YYYYMMDD; check --backup-dir / ARK_BACKUP_DIR)`,
    );
  });

  it('names what it did not use: a link or a file named like a backup is never one', async () => {
    const dir = await backupDir([]);
    await mkdir(join(dir, 'daily'));
    const other = await backupDir(['20260101']);
    await symlink(join(other, 'daily', 'arkalia_20260101'), join(dir, 'daily', 'arkalia_20260101'));
    await writeFile(join(dir, 'daily', 'arkalia_20260102'), 'not a folder');
    const e = await error(selectBackup(dir, '20260101'));
    expect(e.code).toBe('NO_BACKUP');
    expect(e.message).toMatch(/ARK_BACKUP_DIR\) \(not used: .*\)$/);
    expect(e.message).toContain('arkalia_20260101, a symbolic link, not a backup folder');
    expect(e.message).toContain('arkalia_20260102, not a folder');
    expect(e.message).toContain('folder; arkalia_');
    expect(await findBackups(dir)).toEqual([]);
  });

  it('for a date it does not hold: lists the ten newest it does, and says when there are more', async () => {
    const dates = Array.from({ length: 11 }, (_, i) => `202601${String(i + 10)}`);
    const dir = await backupDir(dates);
    const e = await error(selectBackup(dir, '20250101'));
    expect(e).toMatchObject({ code: 'NO_BACKUP_FOR_DATE', exitCode: 1 });
    expect(e.message).toBe(
      `no backup for 20250101 in ${join(dir, 'daily')}; available: 20260120, 20260119, 20260118, 20260117, 20260116, 20260115, 20260114, 20260113, 20260112, 20260111, …`,
    );
    const few = await backupDir(dates.slice(0, 10));
    await symlink('/nowhere', join(few, 'daily', 'arkalia_20260301'));
    expect((await error(selectBackup(few, '20250101'))).message).toBe(
      `no backup for 20250101 in ${join(few, 'daily')}; available: 20260119, 20260118, 20260117, 20260116, 20260115, 20260114, 20260113, 20260112, 20260111, 20260110 (not used: arkalia_20260301, a symbolic link, not a backup folder)`,
    );
  });
});

describe('listCandidates', () => {
  const policy = resolvePolicy({}, 'test');

  it('offers every published backup newest first when no date is named', async () => {
    const dir = await backupDir(['20260110', '20260112']);
    const candidates = await listCandidates(dir, policy);
    expect(candidates.map((c) => [c.label, c.date, c.dir])).toEqual([
      ['arkalia_20260112', '20260112', join(dir, 'daily', 'arkalia_20260112')],
      ['arkalia_20260110', '20260110', join(dir, 'daily', 'arkalia_20260110')],
    ]);
    expect(await candidates[0]!.archiveFile('states')).toBe(
      join(dir, 'daily', 'arkalia_20260112', 'arkalia_states_20260112.tar.gz'),
    );
  });

  it('offers only the named one, or says none is there', async () => {
    const dir = await backupDir(['20260110', '20260112']);
    expect((await listCandidates(dir, policy, '20260110')).map((c) => c.label)).toEqual(['arkalia_20260110']);
    expect(await error(listCandidates(dir, policy, '20260111'))).toMatchObject({ code: 'NO_BACKUP_FOR_DATE' });
    expect(await error(listCandidates(await tempDir('ark-find-'), policy))).toMatchObject({
      code: 'NO_BACKUP',
      exitCode: 1,
    });
  });
});

describe('assertModuleName', () => {
  it('accepts plain lowercase identifiers up to 64 characters', () => {
    for (const name of ['zeroia', 'a', 'cognitive_reactor', 'm2', 'a'.repeat(64)]) {
      expect(MODULE_NAME.test(name), name).toBe(true);
      expect(() => assertModuleName(name)).not.toThrow();
    }
  });

  it('refuses anything that could leave modules/<m>/state/ or is not a name (exit 2)', () => {
    for (const name of [
      '',
      '..',
      'a/b',
      '../etc',
      'Zeroia',
      'zeroiA',
      '2fa',
      '_x',
      'a-b',
      'a b',
      '-rf',
      'x;rm',
      'a'.repeat(65),
    ]) {
      expect(MODULE_NAME.test(name), name).toBe(false);
      expect(() => assertModuleName(name), name).toThrow(expect.objectContaining({ code: 'USAGE', exitCode: 2 }));
    }
  });

  it('quotes what it got, cut at 80 characters', () => {
    expect(() => assertModuleName('Zero IA')).toThrow(
      'module must be a plain identifier such as "zeroia" (lowercase letters, digits, _), got "Zero IA"',
    );
    const exactly80 = 'A'.repeat(80);
    expect(() => assertModuleName(exactly80)).toThrow(`got "${exactly80}"`);
    expect(() => assertModuleName(`${'B'.repeat(80)}CCC`)).toThrow(`got "${'B'.repeat(80)}…"`);
  });
});
