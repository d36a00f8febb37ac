import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { copyFixture, tempDir, writeTree } from '../testing.ts';
import { findLatestSnapshots } from './find-latest-snapshots.ts';
import { SnapshotCatalog } from './snapshot-catalog.ts';
import { takeSnapshot } from './take-snapshot.ts';
import { DEFAULT_PATTERNS, manualClock, VALID_STATES } from './testing.ts';

const tree = (files: Record<string, string>) => writeTree(files, 'ark-latest-');

describe('findLatestSnapshots', () => {
  it('gives, for each live path, its newest snapshot and when it was taken (round trip with takeSnapshot)', async () => {
    const root = await copyFixture({ withEnv: false });
    const backupDir = await tempDir('ark-latest-');
    const clock = manualClock();
    const catalog = new SnapshotCatalog(backupDir);
    for (const path of VALID_STATES) await takeSnapshot({ root, backupDir, path, catalog, now: clock.now });
    clock.tick(90_000);
    await writeFile(join(root, 'state/zeroia_state.toml'), 'newer = true\n');
    await takeSnapshot({ root, backupDir, path: 'state/zeroia_state.toml', catalog, now: clock.now });

    const latest = await findLatestSnapshots({ backupDir, patterns: DEFAULT_PATTERNS });
    expect([...latest.byPath.keys()]).toEqual([...VALID_STATES].sort());
    const z = latest.byPath.get('state/zeroia_state.toml')!;
    expect(z).toMatchObject({
      snapshot: 'realtime/state/zeroia_state.toml.20260315_120130',
      stamp: '20260315_120130',
      layout: 'full',
      sha256: sha256Buffer('newer = true\n'),
    });
    expect(z.takenAt).toEqual(new Date(2026, 2, 15, 12, 1, 30));
    for (const path of VALID_STATES.filter((p) => p !== 'state/zeroia_state.toml')) {
      const s = latest.byPath.get(path)!;
      expect(s.takenAt, path).toEqual(new Date(2026, 2, 15, 12, 0, 0));
      expect(s.sha256, path).toBe(sha256Buffer(await readFile(join(root, path))));
    }
    expect(latest.invalid).toEqual([]);
    expect(latest.ambiguous).toEqual([]);
  });

  it('skips a newest snapshot that does not parse, naming it; maps runbook snapshots back when unambiguous', async () => {
    const backupDir = await tree({
      'realtime/modules/zeroia/state/zeroia_state.toml.20260310_000000': 'good = 1\n',
      'realtime/modules/zeroia/state/zeroia_state.toml.20260311_000000': '<<<<<<< HEAD\nbroken\n', // tampered or bit-rotted
      // runbook layout (first component stripped): newer than ours, so it wins
      'realtime/zeroia/state/zeroia_state.toml.20260310_120000': 'runbook = 1\n',
      // runbook layout, ambiguous: state/global_context.toml or global_state/global_context.toml?
      'realtime/global_context.toml.20260312_000000': 'which = "?"\n',
      'realtime/notes.txt': 'foreign',
    });
    const latest = await findLatestSnapshots({ backupDir, patterns: DEFAULT_PATTERNS });
    expect([...latest.byPath.keys()]).toEqual(['modules/zeroia/state/zeroia_state.toml']);
    expect(latest.byPath.get('modules/zeroia/state/zeroia_state.toml')).toMatchObject({
      snapshot: 'realtime/zeroia/state/zeroia_state.toml.20260310_120000',
      layout: 'legacy',
    });
    expect(latest.invalid).toEqual([
      {
        snapshot: 'realtime/modules/zeroia/state/zeroia_state.toml.20260311_000000',
        livePath: 'modules/zeroia/state/zeroia_state.toml',
        reason: expect.stringMatching(/conflict markers/),
      },
    ]);
    expect(latest.ambiguous).toEqual([
      {
        series: 'global_context.toml',
        candidates: ['global_state/global_context.toml', 'state/global_context.toml'],
        newest: 'realtime/global_context.toml.20260312_000000',
      },
    ]);

    // Limited to one module's files, and with a policy that has only global_state/, the old layout is unambiguous.
    const zeroiaOnly = await findLatestSnapshots({
      backupDir,
      patterns: DEFAULT_PATTERNS,
      include: (p) => p.startsWith('modules/zeroia/'),
    });
    expect([...zeroiaOnly.byPath.keys()]).toEqual(['modules/zeroia/state/zeroia_state.toml']);
    const globalOnly = await findLatestSnapshots({ backupDir, patterns: ['global_state/*.toml'] });
    expect(globalOnly.byPath.get('global_state/global_context.toml')).toMatchObject({
      layout: 'legacy',
      stamp: '20260312_000000',
    });
  });

  it('no realtime/ folder: nothing, no error', async () => {
    const latest = await findLatestSnapshots({ backupDir: await tempDir('ark-latest-'), patterns: DEFAULT_PATTERNS });
    expect(latest.byPath.size).toBe(0);
  });
});
