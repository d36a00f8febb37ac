import { describe, expect, it } from 'vitest';
import { planChanges } from './plan-changes.ts';

// What restoring the staged files over the live ones does, file by file: pure, no disk.

const staged = (files: Record<string, string>) =>
  new Map(Object.entries(files).map(([path, sha256]) => [path, { sha256 }] as const));
const live = (files: Record<string, string>) => new Map(Object.entries(files));

describe('planChanges', () => {
  it('creates what the live tree lacks, replaces what differs, leaves what is the same', () => {
    const changes = planChanges(
      staged({ 'state/a.toml': 'aa', 'state/b.toml': 'b2', 'state/c.toml': 'cc' }),
      live({ 'state/b.toml': 'b1', 'state/c.toml': 'cc' }),
      [],
    );
    expect(changes).toEqual([
      { path: 'state/a.toml', action: 'create', currentSha256: null, backupSha256: 'aa' },
      { path: 'state/b.toml', action: 'replace', currentSha256: 'b1', backupSha256: 'b2' },
      { path: 'state/c.toml', action: 'unchanged', currentSha256: 'cc', backupSha256: 'cc' },
    ]);
  });

  it('removes live files the backup lacks inside any mirrored folder, and only there', () => {
    const changes = planChanges(
      staged({ 'modules/zeroia/state/kept.toml': 'k' }),
      live({
        'modules/zeroia/state/kept.toml': 'k',
        'modules/zeroia/state/extra.toml': 'x',
        'state/stray.toml': 's',
        'config/local.toml': 'c',
      }),
      ['modules/zeroia/state/', 'state/'],
    );
    expect(changes).toEqual([
      { path: 'modules/zeroia/state/extra.toml', action: 'remove', currentSha256: 'x', backupSha256: null },
      { path: 'modules/zeroia/state/kept.toml', action: 'unchanged', currentSha256: 'k', backupSha256: 'k' },
      { path: 'state/stray.toml', action: 'remove', currentSha256: 's', backupSha256: null },
    ]);
  });

  it('removes nothing when no folder is mirrored', () => {
    expect(planChanges(staged({}), live({ 'state/a.toml': 'a' }), [])).toEqual([]);
  });

  it('orders every change by path, whatever order the maps were in: the order the swap applies them', () => {
    const changes = planChanges(
      staged({ 'm/z.toml': '1', 'm/b.toml': '2', 'm/q.toml': '3', 'm/a.toml': '4' }),
      live({ 'm/y.toml': '9', 'm/c.toml': '8', 'm/x.toml': '7', 'm/b.toml': '2' }),
      ['m/'],
    );
    expect(changes.map((c) => `${c.action} ${c.path}`)).toEqual([
      'create m/a.toml',
      'unchanged m/b.toml',
      'remove m/c.toml',
      'create m/q.toml',
      'remove m/x.toml',
      'remove m/y.toml',
      'create m/z.toml',
    ]);
  });
});
