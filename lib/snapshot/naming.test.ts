import { describe, expect, it } from 'vitest';
import { compileStatePatterns, matchesStatePath } from './state-patterns.ts';
import { ownerOfSeries, snapshotRelPath } from './realtime-layout.ts';
import { compareSnapshotNames, formatStamp, parseSnapshotName, parseStamp, snapshotFileName } from './snapshot-name.ts';

const DEFAULT_PATTERNS = ['modules/*/state/*.toml', 'state/*.toml', 'global_state/*.toml'];

describe('snapshot names', () => {
  it('formats like `date +%Y%m%d_%H%M%S` (local time) and reads it back', () => {
    const at = new Date(2026, 2, 5, 7, 8, 9);
    expect(formatStamp(at)).toBe('20260305_070809');
    expect(parseStamp('20260305_070809')).toEqual(at);
    for (const bad of [
      '20261341_000000',
      '20260230_120000',
      '20260305_250000',
      '20260305_126000',
      '2026030_070809',
      'x',
    ])
      expect(parseStamp(bad), bad).toBeNull();
  });

  it('adds a 3-digit sequence for a second snapshot in the same second, and sorts in the order taken', () => {
    expect(snapshotFileName('x.toml', '20260305_070809')).toBe('x.toml.20260305_070809');
    expect(snapshotFileName('x.toml', '20260305_070809', 2)).toBe('x.toml.20260305_070809_002');
    expect(() => snapshotFileName('x.toml', '20260305_070809', 1000)).toThrow(RangeError);
    const names = [
      'x.toml.20260305_070810',
      'x.toml.20260305_070809_002',
      'x.toml.20260305_070809',
      'x.toml.20260305_070809_010',
      'x.toml.20260305_070809_001',
    ];
    const byOrder = names
      .map((n) => parseSnapshotName(n)!)
      .sort(compareSnapshotNames)
      .map((n) => snapshotFileName(n.base, n.stamp, n.seq));
    expect(byOrder).toEqual([...names].sort()); // plain `ls | sort` agrees with the order of taking
    expect(byOrder).toEqual([
      'x.toml.20260305_070809',
      'x.toml.20260305_070809_001',
      'x.toml.20260305_070809_002',
      'x.toml.20260305_070809_010',
      'x.toml.20260305_070810',
    ]);
  });

  it('recognises only snapshot names', () => {
    expect(parseSnapshotName('zeroia_state.toml.20260305_070809')).toMatchObject({
      base: 'zeroia_state.toml',
      stamp: '20260305_070809',
      seq: 0,
    });
    expect(parseSnapshotName('a.b.toml.20260305_070809_007')).toMatchObject({ base: 'a.b.toml', seq: 7 });
    for (const foreign of [
      'zeroia_state.toml',
      'notes.txt',
      '.zeroia_state.toml.tmp-12-0123abcd',
      'x.toml.20260305_070809.tmp.20260305_070809', // the runbook's temp name
      'x.toml.20260305_070809_000',
      'x.toml.20260305_070809_1',
      'x.toml.20261399_070809',
      '.hidden.toml.20260305_070809',
      '.20260305_070809',
    ]) {
      expect(parseSnapshotName(foreign), foreign).toBeNull();
    }
  });
});

describe('state patterns', () => {
  it('match like the runbook loop: one segment per *, no dot files', () => {
    const p = compileStatePatterns(DEFAULT_PATTERNS);
    expect(matchesStatePath(p, 'modules/zeroia/state/zeroia_state.toml')).toBe(true);
    expect(matchesStatePath(p, 'state/x.toml')).toBe(true);
    expect(matchesStatePath(p, 'global_state/x.toml')).toBe(true);
    for (const no of [
      'state/sub/x.toml',
      'modules/zeroia/config/x.toml',
      'state/.x.toml',
      'state/x.toml.tmp',
      'state/x.json',
      'modules/.hidden/state/x.toml',
      'x.toml',
    ]) {
      expect(matchesStatePath(p, no), no).toBe(false);
    }
    expect(matchesStatePath(compileStatePatterns(['state/[a-c]?.toml']), 'state/b1.toml')).toBe(true);
    expect(matchesStatePath(compileStatePatterns(['state/[!a-c]?.toml']), 'state/b1.toml')).toBe(false);
  });

  it('refuses patterns it cannot match faithfully, naming them (policy error, exit 2)', () => {
    for (const bad of ['/var/lib/x/*.toml', 'state/', 'state/**/*.toml', 'state/{a,b}.toml', 'state//x.toml']) {
      expect(() => compileStatePatterns([bad]), bad).toThrow(
        expect.objectContaining({ exitCode: 2, message: expect.stringContaining(JSON.stringify(bad)) }),
      );
    }
  });
});

describe('realtime layout', () => {
  const p = compileStatePatterns(DEFAULT_PATTERNS);

  it('keeps the full path under the root, so state/x and global_state/x never share a series', () => {
    expect(snapshotRelPath('modules/zeroia/state/zeroia_state.toml', '20260305_070809')).toBe(
      'realtime/modules/zeroia/state/zeroia_state.toml.20260305_070809',
    );
    expect(snapshotRelPath('state/global_context.toml', '20260305_070809', 1)).toBe(
      'realtime/state/global_context.toml.20260305_070809_001',
    );
    expect(snapshotRelPath('global_state/global_context.toml', '20260305_070809')).toBe(
      'realtime/global_state/global_context.toml.20260305_070809',
    );
  });

  it('maps each series back to one live path: ours directly, the runbook ones when unambiguous', () => {
    expect(ownerOfSeries('modules/zeroia/state/zeroia_state.toml', p)).toEqual({
      kind: 'live',
      livePath: 'modules/zeroia/state/zeroia_state.toml',
      layout: 'full',
    });
    expect(ownerOfSeries('state/global_context.toml', p)).toEqual({
      kind: 'live',
      livePath: 'state/global_context.toml',
      layout: 'full',
    });
    // Runbook layout: ${state_file#*/} stripped the first component.
    expect(ownerOfSeries('zeroia/state/zeroia_state.toml', p)).toEqual({
      kind: 'live',
      livePath: 'modules/zeroia/state/zeroia_state.toml',
      layout: 'legacy',
    });
    expect(ownerOfSeries('global_context.toml', p)).toEqual({
      kind: 'ambiguous',
      candidates: ['global_state/global_context.toml', 'state/global_context.toml'],
    });
    expect(ownerOfSeries('global_context.toml', compileStatePatterns(['global_state/*.toml']))).toEqual({
      kind: 'live',
      livePath: 'global_state/global_context.toml',
      layout: 'legacy',
    });
    expect(ownerOfSeries('notes/readme.txt', p)).toEqual({ kind: 'foreign' });
  });
});
