import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import { expandNoFollow, linkAbove, linkAt, LinkInTreeError, pathMatcher, TreeGuard, walkNoFollow } from './index.ts';

/** root/ with real folders and files, and outside/ beside it for links to point at. */
async function tree(): Promise<{ root: string; outside: string }> {
  const base = await tempDir('ark-tree-');
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  for (const dir of ['modules/zeroia/state', 'modules/reflexia/state', 'state/sandozia', 'config', outside])
    await mkdir(dir.startsWith('/') ? dir : join(root, dir), { recursive: true });
  for (const file of [
    'modules/zeroia/state/a.toml',
    'modules/reflexia/state/r.toml',
    'state/s.toml',
    'state/sandozia/m.json',
    'config/c.toml',
    '.env',
  ])
    await writeFile(join(root, file), `${file}\n`);
  await writeFile(join(outside, 'secret.toml'), 'secret = 1\n');
  return { root, outside };
}

describe('linkAbove / linkAt / TreeGuard: a link in any component, never followed', () => {
  it('finds the first link above a path or at it; a real path, or one that does not exist yet, has none', async () => {
    const { root, outside } = await tree();
    await symlink(outside, join(root, 'modules/zeroia/logs'));
    await symlink('../../outside', join(root, 'state/chronalia'));
    const guard = new TreeGuard(root);
    for (const look of [(p: string) => linkAbove(root, p), (p: string) => guard.linkAbove(p)]) {
      expect(look('modules/zeroia/state/a.toml')).toBeNull();
      expect(look('modules/zeroia/new/deeper/x.toml')).toBeNull(); // missing folders: nothing to follow
      expect(look('modules/zeroia/logs/x.log')).toEqual({ path: 'modules/zeroia/logs', target: outside });
      expect(look('state/chronalia/sub/y.jsonl')).toEqual({ path: 'state/chronalia', target: '../../outside' });
      expect(look('modules/zeroia/logs')).toBeNull(); // the link itself is not above itself
    }
    expect(linkAt(root, 'modules/zeroia/logs')).toEqual({ path: 'modules/zeroia/logs', target: outside });
    expect(guard.linkAt('modules/zeroia/logs/')).toEqual({ path: 'modules/zeroia/logs', target: outside });
    expect(guard.linkAt('.env')).toBeNull();
    expect(linkAbove(root, '.env/x')).toBeNull(); // a file where a folder should be: not a link
  });

  it('LinkInTreeError: exit 3, names every link and its target, says nothing changed and what to do', () => {
    const error = new LinkInTreeError('/srv/ark', [
      { path: 'modules/zeroia/state', target: '/tmp/x' },
      { path: 'config', target: '/etc' },
    ]);
    expect(error).toMatchObject({
      code: 'LINK_IN_TREE',
      exitCode: 3,
      details: {
        links: [
          { path: 'modules/zeroia/state', target: '/tmp/x' },
          { path: 'config', target: '/etc' },
        ],
      },
    });
    expect(error.message).toContain(
      '2 links stand where the backup has a folder: modules/zeroia/state -> /tmp/x, config -> /etc',
    );
    expect(error.message).toContain('nothing was changed');
    expect(error.message).toContain('mv /srv/ark/modules/zeroia/state /srv/ark/modules/zeroia/state.link');
  });
});

describe('walkNoFollow', () => {
  it('lists files and links (links as entries, never walked into), sorted', async () => {
    const { root, outside } = await tree();
    await symlink(outside, join(root, 'state/linked-dir'));
    await symlink('s.toml', join(root, 'state/alias.toml'));
    expect(walkNoFollow(root, 'state/')).toEqual([
      { kind: 'link', path: 'state/alias.toml', target: 's.toml' },
      { kind: 'link', path: 'state/linked-dir', target: outside },
      { kind: 'file', path: 'state/s.toml' },
      { kind: 'file', path: 'state/sandozia/m.json' },
    ]);
    expect(walkNoFollow(root, 'missing')).toEqual([]);
  });
});

describe('expandNoFollow: data set patterns matched with lstat only', () => {
  it('matches folders, files, wildcards and ** as a shell would, and reports each link instead of following it', async () => {
    const { root, outside } = await tree();
    expect(expandNoFollow(root, 'modules/*/state/')).toEqual({
      matches: ['modules/reflexia/state/', 'modules/zeroia/state/'],
      links: [],
    });
    expect(expandNoFollow(root, 'state/')).toEqual({ matches: ['state/'], links: [] });
    expect(expandNoFollow(root, '.env').matches).toEqual(['.env']);
    expect(expandNoFollow(root, 'config/**/*.toml').matches).toEqual(['config/c.toml']);
    expect(expandNoFollow(root, 'nothing/*').matches).toEqual([]);

    await symlink(outside, join(root, 'modules/taskia'));
    await mkdir(join(root, 'modules/cognitive'));
    await symlink(outside, join(root, 'modules/cognitive/state'));
    await symlink(join(outside, 'secret.toml'), join(root, 'state/planted.toml'));
    expect(expandNoFollow(root, 'modules/*/state/')).toEqual({
      matches: ['modules/reflexia/state/', 'modules/zeroia/state/'],
      links: [
        { path: 'modules/cognitive/state', target: outside },
        { path: 'modules/taskia', target: outside },
      ],
    });
    expect(expandNoFollow(root, 'state/*.toml')).toEqual({
      matches: ['state/s.toml'],
      links: [{ path: 'state/planted.toml', target: join(outside, 'secret.toml') }],
    });
  });

  it('wildcards skip dot names unless dot is set; a leading dot in the pattern matches them', async () => {
    const { root } = await tree();
    await mkdir(join(root, 'modules/.hidden/state'), { recursive: true });
    expect(expandNoFollow(root, 'modules/*/state/').matches).not.toContain('modules/.hidden/state/');
    expect(expandNoFollow(root, 'modules/*/state/', { dot: true }).matches).toContain('modules/.hidden/state/');
    expect(expandNoFollow(root, '.e*').matches).toEqual(['.env']);
  });
});

describe('pathMatcher: the same patterns, matched against paths a walk found', () => {
  it('names exactly the files expandNoFollow finds on disk, without touching it', async () => {
    const root = await tempDir('ark-match-');
    const files = [
      'modules/zeroia/state/zeroia_state.toml',
      'modules/zeroia/state/notes.txt',
      'modules/zeroia/state/deep/x.toml',
      'modules/.hidden/state/h.toml',
      'state/global_context.toml',
      'state/.dot.toml',
      'state/chronalia/t.toml',
      'config/settings.toml',
      'config/sub/deeper/more.toml',
      'other.toml',
    ];
    for (const f of files) {
      await mkdir(join(root, f, '..'), { recursive: true });
      await writeFile(join(root, f), 'a = 1\n');
    }
    const patterns = ['modules/*/state/*.toml', 'state/*.toml', 'config/**/*.toml', 'other.toml', 'state/'];
    const onDisk = new Set(
      patterns.flatMap((p) => expandNoFollow(root, p, { dot: true }).matches).filter((m) => !m.endsWith('/')),
    );
    const matches = pathMatcher(patterns, { dot: true });
    expect(files.filter(matches).sort()).toEqual([...onDisk].sort());
    expect(files.filter(matches).sort()).toEqual([
      'config/settings.toml',
      'config/sub/deeper/more.toml',
      'modules/.hidden/state/h.toml',
      'modules/zeroia/state/zeroia_state.toml',
      'other.toml',
      'state/.dot.toml',
      'state/global_context.toml',
    ]);
    expect(files.filter(pathMatcher(['state/*.toml'])).sort()).toEqual(['state/global_context.toml']); // no dot
  });
});
