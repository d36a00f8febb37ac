import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingSink } from '../events.ts';
import { tempDir } from '../testing.ts';
import { checkChecksums, CHECKS_DIR } from '../verify/index.ts';
import { listBackups } from './list-backups.ts';
import { backup, fixture, policy } from './testing.ts';

// ark list: what each point holds and added, its recovery point, and its last verification.

describe('listBackups', () => {
  it('lists points newest first with archives, what each added on disk, recovery point and completeness', async () => {
    const root = await fixture();
    const dir = await tempDir('ark-ls-');
    const night = await backup(root, dir, '2026-07-01T03:00:00', { point: true });
    await writeFile(join(root, 'state', 'zeroia_dashboard.json'), '{"decisions": 42}\n');
    const hourly = await backup(root, dir, '2026-07-01T04:00:00', { point: true });
    const broken = await backup(root, dir, '2026-07-02T03:00:00');
    await rm(join(broken.report.dir, `backup_manifest_${broken.report.date}.json`));

    const { backups } = await listBackups(dir);
    expect(backups.map((b) => [b.name, b.kind, b.taken, b.complete])).toEqual([
      ['arkalia_20260702', 'daily', '2026-07-02', false],
      ['arkalia_20260701_0400', 'point', '2026-07-01T04:00', true],
      ['arkalia_20260701', 'daily', '2026-07-01', true],
    ]);
    const [newest, point, first] = backups as [(typeof backups)[0], (typeof backups)[0], (typeof backups)[0]];
    expect(newest.problems).toEqual(['no backup_manifest_20260702.json']);
    expect(newest.recovery_point).toBeNull(); // only the manifest records it
    // The first point added all its files; the hourly one only the states archive it rewrote.
    expect(first.new_bytes).toBe(first.bytes);
    const states = point.archives.find((a) => a.file.startsWith('arkalia_states_'))!;
    expect(point.new_bytes).toBe(states.bytes);
    expect(point.archives.filter((a) => a.reused_from === '20260701').map((a) => a.file.split('_20260701')[0])).toEqual(
      ['arkalia_infra', 'arkalia_logs', 'ollama_models'],
    );
    expect(point.recovery_point).toBe(hourly.manifest.backup_date);
    expect(first.recovery_point).toBe(night.manifest.backup_date);
    expect(backups.every((b) => b.last_verified === null)).toBe(true);
  });

  it("shows each point's last full verification and its result, recorded by verify --daily outside the points", async () => {
    const root = await fixture();
    const dir = await tempDir('ark-ls-');
    const good = await backup(root, dir, '2026-07-01T03:00:00');
    const bad = await backup(root, dir, '2026-07-02T03:00:00');
    const logs = (await readdir(bad.report.dir)).find((f) => f.startsWith('arkalia_logs_'))!;
    await rm(join(bad.report.dir, logs)); // unlinked: the first point's copy is untouched
    await writeFile(join(bad.report.dir, logs), 'rotten');
    const at = new Date('2026-07-02T09:00:00Z');
    const outcome = await checkChecksums({ root, backupDir: dir, policy, sink: recordingSink(), now: () => at });
    expect(outcome.status).toBe('integrity');

    const { backups } = await listBackups(dir);
    expect(backups.map((b) => [b.name, b.last_verified?.ok, b.last_verified?.at])).toEqual([
      ['arkalia_20260702', false, at.toISOString()],
      ['arkalia_20260701', true, at.toISOString()],
    ]);
    expect(backups[0]!.last_verified).toMatchObject({
      by: 'verify --daily',
      problems: [{ archive: logs, problem: expect.stringMatching(/^sha256 mismatch/) }],
    });
    expect(backups[1]!.last_verified).toMatchObject({ archives: good.manifest.archives!.length, problems: [] });
    // The record lives beside daily/, never in a point (what sha256sum -c and the offsite see).
    expect(await readdir(join(dir, CHECKS_DIR))).toEqual(['arkalia_20260701.json', 'arkalia_20260702.json']);
    for (const b of backups)
      expect((await readdir(b.dir)).filter((f) => !f.endsWith('.tar.gz')).sort()).toEqual([
        `backup_manifest_${b.stamp}.json`,
        `checksums_${b.stamp}.sha256`,
      ]);
  });
});
