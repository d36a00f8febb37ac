import { readdirSync, readlinkSync } from 'node:fs';
import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { recordingSink } from '../events.ts';
import type { LatestSnapshots } from '../snapshot/index.ts';
import { DEFAULT_PATTERNS } from '../snapshot/testing.ts';
import { tempDir } from '../testing.ts';
import { overlaySnapshots } from './overlay-snapshots.ts';
import { moduleStateScope, type RestoreScope } from './restore-scope.ts';
import type { StagedBackup, StagedFile } from './stage-backup.ts';

// Smaller data loss: newer real-time snapshots laid over the staged daily backup.

// findLatestSnapshots, real, with a hook run once it has answered: what a writer touching a
// snapshot between that look and the overlay's own read does.
const hooks = vi.hoisted(() => ({ afterFind: null as ((latest: LatestSnapshots) => Promise<void>) | null }));
vi.mock('../snapshot/index.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../snapshot/index.ts')>();
  const findLatestSnapshots: typeof real.findLatestSnapshots = async (options) => {
    const latest = await real.findLatestSnapshots(options);
    await hooks.afterFind?.(latest);
    return latest;
  };
  return { ...real, findLatestSnapshots };
});
afterEach(() => {
  hooks.afterFind = null;
});

/** The files this process holds open under `dir` (Linux: /proc/self/fd). */
function openUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return []; // closed since the listing
    }
  });
}

const Z = 'modules/zeroia/state/zeroia_state.toml';
const Y = 'modules/zeroia/state/other.toml';
const BACKUP_AT = new Date(2026, 2, 15, 12, 0, 0);

async function world(snapshots: Record<string, string>) {
  const backupDir = await tempDir('ark-overlay-');
  for (const [rel, content] of Object.entries(snapshots)) {
    await mkdir(dirname(join(backupDir, 'realtime', rel)), { recursive: true });
    await writeFile(join(backupDir, 'realtime', rel), content);
  }
  const dir = join(await tempDir('ark-staged-'), 'staged');
  await mkdir(dir);
  return { backupDir, dir };
}

function staged(
  dir: string,
  at: Date | null,
  files: Record<string, Partial<StagedFile>> = {},
  knownInvalid: { path: string; reason: string }[] = [],
): StagedBackup {
  return {
    dir,
    recoveryPoint: { display: at === null ? null : '2026-03-15T12:00:00+01:00', at },
    files: new Map(
      Object.entries(files).map(([p, f]) => [p, { sha256: 'backup', source: 'backup', at: null, ...f } as StagedFile]),
    ),
    knownInvalid,
  } as unknown as StagedBackup;
}

const run = (s: StagedBackup, backupDir: string, scope: RestoreScope = moduleStateScope('zeroia')) => {
  const sink = recordingSink();
  return overlaySnapshots({ staged: s, scope, backupDir, patterns: DEFAULT_PATTERNS, sink }).then((used) => ({
    used,
    events: sink.events,
  }));
};

describe('overlaySnapshots', () => {
  it('puts a snapshot newer than the backup in staging, records where it came from, and says so', async () => {
    const { backupDir, dir } = await world({ [`${Z}.20260315_120001`]: 'newer = 1\n' });
    const s = staged(dir, BACKUP_AT, { [Z]: {} }, [
      { path: Z, reason: 'was invalid in the backup' },
      { path: Y, reason: 'still invalid' },
    ]);
    const { used, events } = await run(s, backupDir);
    const takenAt = new Date(2026, 2, 15, 12, 0, 1).toISOString();
    const snapshot = `realtime/${Z}.20260315_120001`;
    const sha256 = sha256Buffer('newer = 1\n');
    expect(used).toEqual([{ path: Z, snapshot, takenAt, sha256 }]);
    expect(await readFile(join(dir, Z), 'utf8')).toBe('newer = 1\n');
    expect((await stat(join(dir, Z))).mode & 0o777).toBe(0o644);
    expect(s.files.get(Z)).toEqual({ sha256, source: 'snapshot', at: takenAt, snapshot });
    expect(s.knownInvalid).toEqual([{ path: Y, reason: 'still invalid' }]);
    expect(events).toEqual([
      { kind: 'snapshot-used', path: Z, snapshot, takenAt, backupRecoveryPoint: '2026-03-15T12:00:00+01:00' },
    ]);
  });

  it('keeps the backup when its snapshots are not newer (the same second included), and leaves other modules alone', async () => {
    const { backupDir, dir } = await world({
      [`${Z}.20260315_120000`]: 'same = 1\n',
      [`${Y}.20260315_115959`]: 'older = 1\n',
      'modules/reflexia/state/r.toml.20260316_000000': 'other = 1\n',
    });
    const s = staged(dir, BACKUP_AT, { [Z]: {}, [Y]: {} });
    const { used, events } = await run(s, backupDir);
    expect(used).toEqual([]);
    expect(events).toEqual([]);
    expect(s.files.get(Z)?.source).toBe('backup');
    await expect(stat(join(dir, 'modules'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('compares with the capture of the archive that holds the file, when it is older than the backup', async () => {
    const { backupDir, dir } = await world({
      [`${Z}.20260315_110000`]: 'z = 1\n',
      [`${Y}.20260315_110000`]: 'y = 1\n',
    });
    const s = staged(dir, BACKUP_AT, {
      [Z]: { atTime: new Date(2026, 2, 15, 10, 0, 0) },
      [Y]: { atTime: null },
    });
    const { used } = await run(s, backupDir);
    expect(used.map((u) => u.path)).toEqual([Z]);
  });

  it('uses every valid snapshot when the backup time is unknown, and warns about every invalid one then', async () => {
    const { backupDir, dir } = await world({
      [`${Z}.20200101_000000`]: 'z = 1\n',
      [`${Z}.20200102_000000`]: 'broken = = 1\n',
    });
    const s = staged(dir, null);
    const { used, events } = await run(s, backupDir);
    expect(used.map((u) => u.snapshot)).toEqual([`realtime/${Z}.20200101_000000`]);
    expect(events.filter((e) => e.kind === 'warning')).toEqual([
      {
        kind: 'warning',
        code: 'SNAPSHOT_INVALID',
        path: Z,
        message: expect.stringMatching(
          new RegExp(`^snapshot realtime/${Z}\\.20200102_000000 is not valid TOML \\(.+\\): skipped$`),
        ),
      },
    ]);
  });

  it('warns about an invalid snapshot only when it is newer than the backup', async () => {
    const { backupDir, dir } = await world({
      [`${Z}.20260315_110000`]: 'broken = = 1\n',
      [`${Y}.20260315_120000`]: 'broken = = 2\n',
      [`${Y}.20260315_130000`]: 'broken = = 3\n',
    });
    const { used, events } = await run(staged(dir, BACKUP_AT), backupDir);
    expect(used).toEqual([]);
    expect(events.map((e) => (e.kind === 'warning' ? `${e.code} ${e.message.split(' ')[1]}` : e.kind))).toEqual([
      `SNAPSHOT_INVALID realtime/${Y}.20260315_130000`,
    ]);
  });

  it('never uses a runbook snapshot that could be of several files, and says so', async () => {
    const { backupDir, dir } = await world({ 'global_context.toml.20260316_000000': 'which = 1\n' });
    const { used, events } = await run(staged(dir, BACKUP_AT), backupDir);
    expect(used).toEqual([]);
    expect(events).toEqual([
      {
        kind: 'warning',
        code: 'SNAPSHOT_AMBIGUOUS',
        message:
          'runbook snapshots global_context.toml.* could be of global_state/global_context.toml or state/global_context.toml: not used',
      },
    ]);
  });

  it('does not use a snapshot that changed, went away or became a link or a folder after it was chosen', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'].map((n) => `modules/zeroia/state/${n}.toml`);
    const { backupDir, dir } = await world(Object.fromEntries(names.map((n) => [`${n}.20260316_000000`, 'v = 1\n'])));
    const [changed, gone, linked, folder, kept] = names.map((n) => join(backupDir, 'realtime', `${n}.20260316_000000`));
    hooks.afterFind = async () => {
      await writeFile(changed!, 'v = 2\n');
      await rm(gone!);
      await rm(linked!);
      await symlink(kept!, linked!);
      await rm(folder!);
      await mkdir(folder!);
    };
    const { used, events } = await run(staged(dir, BACKUP_AT), backupDir);
    expect(used.map((u) => u.path)).toEqual([names[4]]);
    expect(events.filter((e) => e.kind === 'warning')).toEqual(
      names.slice(0, 4).map((n) => ({
        kind: 'warning',
        code: 'SNAPSHOT_CHANGED',
        message: `snapshot realtime/${n}.20260316_000000 changed while it was being read: not used for ${n}`,
      })),
    );
    await expect(stat(join(dir, names[0]!))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(openUnder(backupDir)).toEqual([]); // every snapshot it opened is closed again
  });
});
