import { describe, expect, it } from 'vitest';
import { archiveKind } from './archive-kind.ts';
import { planSync, type LocalFile } from './plan-sync.ts';

const sha = (c: string) => c.repeat(64).slice(0, 64);
const local = (name: string, size = 10, s = 'a'): LocalFile => ({ name, size, sha256: sha(s) });
const states = (date: string) => `arkalia_states_${date}.tar.gz.gpg`;
const summary = (actions: ReturnType<typeof planSync>) => Object.fromEntries(actions.map((a) => [a.name, a.action]));

describe('archiveKind', () => {
  it('finds the series and the date', () => {
    expect(archiveKind('arkalia_states_20261125.tar.gz.gpg')).toEqual({
      kind: 'arkalia_states_*.tar.gz.gpg',
      stamp: '20261125000000',
    });
    expect(archiveKind('zeroia_state.toml.20261125_031500.gpg')).toEqual({
      kind: 'zeroia_state.toml.*.gpg',
      stamp: '20261125031500',
    });
    // A recovery point's _HHMM belongs to the same series, later than the day's first point.
    expect(archiveKind('arkalia_states_20261125_1300.tar.gz.gpg')).toEqual({
      kind: 'arkalia_states_*.tar.gz.gpg',
      stamp: '20261125130000',
    });
    expect(archiveKind('notes.gpg')).toBeNull();
    expect(archiveKind('x_20261345.gpg')).toBeNull(); // not a calendar date
    expect(archiveKind('x_123456789.gpg')).toBeNull();
  });
});

describe('planSync', () => {
  it('marks an upload whose bytes the remote already vouches for under another name, to be copied there', () => {
    const actions = planSync({
      local: [local(states('20261125')), local(states('20261125_1300')), local(states('20261125_1400'), 10, 'c')],
      localRefused: [],
      remote: [
        { name: states('20261125'), size: 10 },
        { name: 'unvouched_20261125.gpg', size: 10 },
      ],
      remoteSums: new Map([[states('20261125'), sha('a')]]),
    });
    const byName = new Map(actions.map((a) => [a.name, a]));
    expect(byName.get(states('20261125'))?.action).toBe('skip');
    expect(byName.get(states('20261125_1300'))).toMatchObject({ action: 'upload', sameAs: states('20261125') });
    expect(byName.get(states('20261125_1400'))).toMatchObject({ action: 'upload' });
    expect(byName.get(states('20261125_1400'))?.sameAs).toBeUndefined(); // other bytes
  });

  it('uploads what is new, differs in size, or is not vouched for; skips what matches', () => {
    const actions = planSync({
      local: [
        local('new_20261125.gpg'),
        local('resized_20261125.gpg', 12),
        local('unlisted_20261125.gpg'),
        local('changed_20261125.gpg', 10, 'b'),
        local('same_20261125.gpg'),
      ],
      localRefused: [],
      remote: [
        { name: 'resized_20261125.gpg', size: 10 },
        { name: 'unlisted_20261125.gpg', size: 10 },
        { name: 'changed_20261125.gpg', size: 10 },
        { name: 'same_20261125.gpg', size: 10 },
      ],
      remoteSums: new Map([
        ['changed_20261125.gpg', sha('a')],
        ['same_20261125.gpg', sha('a')],
        ['resized_20261125.gpg', sha('a')],
      ]),
    });
    expect(summary(actions)).toEqual({
      'new_20261125.gpg': 'upload',
      'resized_20261125.gpg': 'upload',
      'unlisted_20261125.gpg': 'upload',
      'changed_20261125.gpg': 'upload',
      'same_20261125.gpg': 'skip',
    });
    expect(actions.find((a) => a.name === 'unlisted_20261125.gpg')!.reason).toMatch(/SHA256SUMS does not vouch/);
  });

  it('deletes an old copy only when a newer verified copy of the same kind stays; never the newest', () => {
    const actions = planSync({
      local: [local(states('20261125'))],
      localRefused: [],
      remote: [
        { name: states('20261123'), size: 10 },
        { name: states('20261124'), size: 10 },
        { name: 'arkalia_logs_20261120.tar.gz.gpg', size: 5 },
        { name: 'notes.gpg', size: 1 },
      ],
      remoteSums: new Map([
        [states('20261123'), sha('a')],
        [states('20261124'), sha('a')],
        ['arkalia_logs_20261120.tar.gz.gpg', sha('c')],
      ]),
    });
    expect(summary(actions)).toEqual({
      [states('20261123')]: 'delete',
      [states('20261124')]: 'delete',
      [states('20261125')]: 'upload',
      'arkalia_logs_20261120.tar.gz.gpg': 'keep', // newest (only) copy of its kind
      'notes.gpg': 'keep', // no date
    });
    expect(actions.find((a) => a.name === states('20261123'))!.newerCopy).toBe(states('20261125'));
    expect(actions.find((a) => a.name === 'arkalia_logs_20261120.tar.gz.gpg')!.reason).toMatch(
      /newest copy of arkalia_logs_\*\.tar\.gz\.gpg/,
    );
  });

  it('keeps a gone-locally copy when the only newer one is unverified remotely, or when the local copy of that name is refused', () => {
    const actions = planSync({
      local: [local('other_20261125.gpg')],
      localRefused: [states('20261124')],
      remote: [
        { name: states('20261123'), size: 10 },
        { name: states('20261124'), size: 10 },
        { name: 'x_20261101.gpg', size: 1 },
        { name: 'x_20261102.gpg', size: 1 },
      ],
      remoteSums: new Map([
        [states('20261123'), sha('a')],
        ['x_20261101.gpg', sha('a')],
      ]), // x_20261102 unverified
    });
    expect(summary(actions)).toMatchObject({
      [states('20261123')]: 'keep',
      [states('20261124')]: 'keep',
      'x_20261101.gpg': 'keep',
      'x_20261102.gpg': 'keep',
    });
  });

  it('deletes nothing when the local folder holds no verified file (wiped or unmounted source)', () => {
    const actions = planSync({
      local: [],
      localRefused: [],
      remote: [
        { name: states('20261123'), size: 1 },
        { name: states('20261124'), size: 1 },
      ],
      remoteSums: new Map([
        [states('20261123'), sha('a')],
        [states('20261124'), sha('a')],
      ]),
    });
    expect(actions.map((a) => a.action)).toEqual(['keep', 'keep']);
  });

  it('ignores *.tmp, hidden files and the manifest; cleans up upload leftovers', () => {
    const actions = planSync({
      local: [local(states('20261125'))],
      localRefused: [],
      remote: [
        { name: 'SHA256SUMS', size: 1 },
        { name: 'x_20261101.tmp', size: 1 },
        { name: '.hidden_20261101', size: 1 },
        { name: '.ark-upload-a.gpg.1234', size: 1 },
        { name: states('20261125'), size: 10 },
      ],
      remoteSums: new Map([[states('20261125'), sha('a')]]),
    });
    expect(summary(actions)).toEqual({ '.ark-upload-a.gpg.1234': 'cleanup', [states('20261125')]: 'skip' });
  });
});
