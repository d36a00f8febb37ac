import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EncryptedRecord } from '../crypto/index.ts';
import { DEFAULT_POLICY } from '../policy/index.ts';
import { tempDir } from '../testing.ts';
import { planOffsiteSets, type PlanOffsiteSetsInput } from './plan-offsite-sets.ts';
import { createBuild, planPlacement } from './place-root.ts';

const sha = (c: string) => c.repeat(64).slice(0, 64);
const states = (date: string) => `arkalia_states_${date}.tar.gz.gpg`;
const logs = (date: string) => `arkalia_logs_${date}.tar.gz.gpg`;
const record = (c: string, bytes = 10): EncryptedRecord => ({
  source: null,
  source_sha256: sha('f'),
  source_bytes: 9,
  sha256: sha(c),
  bytes,
  recipients: [{ fingerprint: 'F'.repeat(40), key_id: 'ABCDEF0123456789' }],
  signed_by: null,
  verification: 'full',
  encrypted_at: '2026-11-25T03:00:00.000Z',
});

function input(
  files: Record<string, { c: string; listed?: boolean; vouched?: boolean; described?: boolean; manifestSha?: string }>,
): PlanOffsiteSetsInput {
  const entries = Object.entries(files);
  return {
    listing: entries.filter(([, f]) => f.listed !== false).map(([name]) => ({ name, size: 10 })),
    sums: new Map(entries.filter(([, f]) => f.vouched !== false).map(([name, f]) => [name, sha(f.c)])),
    manifest: Object.fromEntries(
      entries
        .filter(([, f]) => f.described !== false)
        .map(([name, f]) => [name, { ...record(f.c), sha256: f.manifestSha ?? sha(f.c) }]),
    ),
    archives: DEFAULT_POLICY.archives,
    required: ['states'],
  };
}

describe('planOffsiteSets', () => {
  it('groups the policy archives by date, newest first, required first; ignores files that are no policy archive', () => {
    const sets = planOffsiteSets(
      input({
        [states('20261124')]: { c: 'a' },
        [logs('20261125')]: { c: 'b' },
        [states('20261125')]: { c: 'c' },
        'zeroia_state.toml.20261126_031500.gpg': { c: 'd' },
        'notes.gpg': { c: 'e' },
      }),
    );
    expect(sets.map((s) => s.date)).toEqual(['20261125', '20261124']);
    expect(sets[0]!.files.map((f) => [f.name, f.archive, f.archiveFile, f.required])).toEqual([
      [states('20261125'), 'states', 'arkalia_states_20261125.tar.gz', true],
      [logs('20261125'), 'logs', 'arkalia_logs_20261125.tar.gz', false],
    ]);
    expect(sets[0]!.files[0]).toMatchObject({
      sha256: sha('c'),
      bytes: 10,
      sourceSha256: sha('f'),
      encryptedAt: '2026-11-25T03:00:00.000Z',
    });
    expect(sets.every((s) => s.problem === null)).toBe(true);
  });

  it("a recovery point (arkalia_states_<DATE>_<HHMM>) is a set of its own, newer than its day's first", () => {
    const sets = planOffsiteSets(
      input({
        [states('20261125')]: { c: 'a' },
        [states('20261125_1300')]: { c: 'b' },
        [states('20261124_2300')]: { c: 'c' },
      }),
    );
    expect(sets.map((s) => s.date)).toEqual(['20261125_1300', '20261125', '20261124_2300']);
    expect(sets[0]!.files.map((f) => f.archiveFile)).toEqual(['arkalia_states_20261125_1300.tar.gz']);
  });

  it("carries when the backup ran (the manifest's backup_date), null in manifests written before it was recorded", () => {
    const plain = input({ [states('20261125')]: { c: 'a' } });
    const recorded = {
      ...plain,
      manifest: {
        [states('20261125')]: { ...plain.manifest[states('20261125')]!, backup_date: '2026-11-25T02:59:58+00:00' },
      },
    };
    expect(planOffsiteSets(recorded)[0]!.files[0]!.backupDate).toBe('2026-11-25T02:59:58+00:00');
    expect(planOffsiteSets(input({ [states('20261125')]: { c: 'a' } }))[0]!.files[0]!.backupDate).toBeNull();
  });

  it('names what is wrong with a set before any download: missing, not vouched for, not described, disagreeing', () => {
    const problem = (files: Parameters<typeof input>[0]) => planOffsiteSets(input(files))[0]!.problem;
    expect(problem({ [states('20261125')]: { c: 'a', listed: false } })).toMatchObject({
      code: 'OFFSITE_OBJECT_MISSING',
      name: states('20261125'),
      exitCode: 1,
    });
    expect(problem({ [states('20261125')]: { c: 'a', vouched: false } })).toMatchObject({
      code: 'OFFSITE_NOT_VOUCHED',
      exitCode: 3,
    });
    expect(problem({ [states('20261125')]: { c: 'a', described: false } })).toMatchObject({
      code: 'OFFSITE_MANIFEST_NO_ENTRY',
      exitCode: 3,
    });
    expect(problem({ [states('20261125')]: { c: 'a', manifestSha: sha('b') } })).toMatchObject({
      code: 'OFFSITE_SUMS_DISAGREE',
      exitCode: 3,
    });
    expect(problem({ [logs('20261125')]: { c: 'a' } })).toMatchObject({
      code: 'OFFSITE_ARCHIVE_MISSING',
      name: states('20261125'),
      exitCode: 1,
    });
  });

  it('drops a damaged optional archive without rejecting the set', () => {
    const [set] = planOffsiteSets(
      input({ [states('20261125')]: { c: 'a' }, [logs('20261125')]: { c: 'b', vouched: false } }),
    );
    expect(set!.problem).toBeNull();
    expect(set!.files.map((f) => f.name)).toEqual([states('20261125')]);
    expect(set!.dropped).toEqual([expect.objectContaining({ code: 'OFFSITE_NOT_VOUCHED', name: logs('20261125') })]);
  });
});

describe('planPlacement', () => {
  it('builds beside an absent or empty root and renames it into place; settles an interrupted restore in place; refuses a root with files', async () => {
    const parent = await tempDir('ark-place-');
    const root = join(parent, 'arkalia');
    expect(await planPlacement(root, { pid: 42, now: () => 7 })).toEqual({
      mode: 'rename',
      root,
      build: join(parent, '.ark-recovering-arkalia-42-7'),
      rootExists: false,
    });
    await mkdir(root);
    expect(await planPlacement(root)).toMatchObject({ mode: 'rename', rootExists: true });
    await writeFile(join(root, '.ark-restore-journal.json'), '{}');
    expect(await planPlacement(root)).toMatchObject({
      mode: 'in-place',
      reason: expect.stringMatching(/interrupted restore/),
    });
    await writeFile(join(root, 'version.toml'), 'x = 1\n');
    expect(await planPlacement(root)).toMatchObject({ mode: 'in-place' }); // the journal's restore is rolled back first
    const other = join(parent, 'other');
    await mkdir(join(other, 'lost+found'), { recursive: true });
    expect(await planPlacement(other)).toMatchObject({
      mode: 'in-place',
      reason: expect.stringMatching(/mount point/),
    });
    await writeFile(join(other, 'version.toml'), 'x = 1\n');
    await expect(planPlacement(other)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/is not empty \(version\.toml\).*disaster-recovery/),
    });
    await expect(planPlacement(join(other, 'version.toml'))).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/not a folder/),
    });
  });

  it("a new build first removes what killed runs left beside the root (their builds and restore workspaces), not a live run's", async () => {
    const parent = await tempDir('ark-place-');
    const root = join(parent, 'arkalia');
    const dead = 2 ** 22 + 12345; // above pid_max's default: no such process
    for (const name of [
      `.ark-recovering-arkalia-${dead}-1`,
      `.ark-restore-.ark-recovering-arkalia-${dead}-1-${dead}-2`,
      `.ark-recovering-arkalia-${process.pid}-1`,
      '.ark-recovering-other-1-1',
      'keep-me',
    ]) {
      await mkdir(join(parent, name, 'state'), { recursive: true });
    }
    const placement = await planPlacement(root, { now: () => 99 });
    if (placement.mode !== 'rename') throw new Error('expected a rename placement');
    await createBuild(placement);
    expect((await readdir(parent)).sort()).toEqual([
      `.ark-recovering-arkalia-${process.pid}-1`,
      `.ark-recovering-arkalia-${process.pid}-99`,
      '.ark-recovering-other-1-1',
      'keep-me',
    ]);
  });
});
