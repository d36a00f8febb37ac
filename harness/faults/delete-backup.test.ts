import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { injectFault } from './index.ts';
import { faultContext, wholeTree } from './testing.ts';

async function withBackups(dates: string[]) {
  const ctx = await faultContext();
  for (const date of dates) {
    const dir = join(ctx.backupDir, 'daily', `arkalia_${date}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `arkalia_states_${date}.tar.gz`), `states ${date}`);
    await writeFile(join(dir, `checksums_${date}.sha256`), `sums ${date}\n`);
    await writeFile(join(dir, `backup_manifest_${date}.json`), '{}\n');
  }
  return ctx;
}

describe('delete-backup fault', () => {
  it.each(['folder', 'checksums', 'manifest'] as const)(
    "deletes the newest backup's %s; revert puts it back",
    async (part) => {
      const ctx = await withBackups(['20260101', '20260102']);
      const before = await wholeTree(ctx);
      const fault = await injectFault({ kind: 'delete-backup', date: 'newest', part }, ctx);
      const after = await wholeTree(ctx);
      const gone = [...before.keys()].filter((k) => !after.has(k));
      expect(gone.length).toBeGreaterThan(0);
      expect(gone.every((k) => k.includes('20260102'))).toBe(true);
      if (part !== 'folder')
        expect(gone).toEqual([
          `backup/daily/arkalia_20260102/${part === 'checksums' ? 'checksums_20260102.sha256' : 'backup_manifest_20260102.json'}`,
        ]);
      await fault.revert();
      await fault.revert();
      expect(await wholeTree(ctx)).toEqual(before);
    },
  );

  it('a dated one; and revert does not resurrect a backup that prune deleted since', async () => {
    const ctx = await withBackups(['20260101', '20260102']);
    const fault = await injectFault({ kind: 'delete-backup', date: '20260101', part: 'checksums' }, ctx);
    await rm(join(ctx.backupDir, 'daily', 'arkalia_20260101'), { recursive: true });
    await fault.revert();
    expect(await readdir(join(ctx.backupDir, 'daily'))).toEqual(['arkalia_20260102']);
  });

  it('fails, naming what exists, when there is no such backup', async () => {
    const ctx = await withBackups(['20260101']);
    await expect(injectFault({ kind: 'delete-backup', date: '20250101', part: 'folder' }, ctx)).rejects.toThrow(
      /no daily backup of 20250101 .* \(has 20260101\)/,
    );
  });
});
