import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { tempDir } from '../testing.ts';
import { diffTrees } from './diff-trees.ts';

// The weekly test restore's answer: how the live tree differs from the sandbox the backup was
// restored into, within the scope, read without following links.

async function tree(files: Record<string, string>, links: Record<string, string> = {}): Promise<string> {
  const root = join(await tempDir('ark-diff-'), 'root');
  await mkdir(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  for (const [path, target] of Object.entries(links)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await symlink(target, join(root, path));
  }
  return root;
}

const sha = (text: string) => sha256Buffer(text);
const rejection = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error & { code: string; exitCode: number; links: { path: string; target: string }[] },
  );

describe('diffTrees', () => {
  it('names what a restore would add, remove and change, sorted by path, and counts what is the same', async () => {
    const scope = { paths: ['state/', 'config/*.toml', '.env'] };
    const live = await tree({
      'state/same.toml': 's',
      'state/changed.toml': 'old',
      'state/sub/only-live.toml': 'l',
      'config/a.toml': 'a',
      'config/.hidden.toml': 'h',
      '.env': 'K=1',
      'logs/x.log': 'not in scope',
    });
    const restored = await tree({
      'state/same.toml': 's',
      'state/changed.toml': 'new',
      'state/added.toml': 'n',
      'state/new2.toml': 'n2',
      'config/a.toml': 'a',
      'config/b.toml': 'b',
      'config/sub/deep.toml': 'not matched by config/*.toml',
      '.env': 'K=1',
    });
    expect(await diffTrees(scope, live, restored)).toEqual({
      added: [
        { path: 'config/b.toml', sha256: sha('b') },
        { path: 'state/added.toml', sha256: sha('n') },
        { path: 'state/new2.toml', sha256: sha('n2') },
      ],
      removed: [
        { path: 'config/.hidden.toml', sha256: sha('h') },
        { path: 'state/sub/only-live.toml', sha256: sha('l') },
      ],
      changed: [{ path: 'state/changed.toml', liveSha256: sha('old'), restoredSha256: sha('new') }],
      unchanged: 3,
    });
  });

  it('counts a link where a file is as symlink:<target>, under a folder or named by a file pattern', async () => {
    const scope = { paths: ['state/', 'Dockerfile*'] };
    const live = await tree(
      { 'state/real.toml': 'r' },
      { 'state/l.toml': '/etc/passwd', Dockerfile: 'Dockerfile.real' },
    );
    const restored = await tree({ 'state/real.toml': 'r', 'state/l.toml': 'restored', Dockerfile: 'FROM x' });
    expect(await diffTrees(scope, live, restored)).toEqual({
      added: [],
      removed: [],
      changed: [
        { path: 'Dockerfile', liveSha256: 'symlink:Dockerfile.real', restoredSha256: sha('FROM x') },
        { path: 'state/l.toml', liveSha256: 'symlink:/etc/passwd', restoredSha256: sha('restored') },
      ],
      unchanged: 1,
    });
  });

  it('leaves out the restore workspaces (.ark-restore*) and a file where the scope names a folder', async () => {
    const scope = { paths: ['state/', 'state/*.toml', 'scripts/'] };
    const live = await tree(
      {
        'state/a.toml': 'a',
        'state/.ark-restore-1-2/x.toml': 'w',
        'state/.ark-restore-y.toml': 'y',
        scripts: 'a file',
      },
      { 'state/.ark-restore-l.toml': 'x', 'state/.ark-restore-1-2/l': 'y' },
    );
    const restored = await tree({ 'state/a.toml': 'a' });
    expect(await diffTrees(scope, live, restored)).toEqual({ added: [], removed: [], changed: [], unchanged: 1 });
  });

  it('refuses (exit 3) like a real restore would when a link stands where the backup has a folder, naming each, sorted', async () => {
    const scope = { paths: ['state/', 'config/', 'zeta/'] };
    const live = await tree(
      { 'elsewhere/x.toml': 'x', 'config/top.toml': 't', 'zeta/top.toml': 't' },
      { state: 'elsewhere', 'config/sub': '/srv/sub', 'zeta/sub': '/srv/zeta' },
    );
    const restored = await tree({
      'state/x.toml': 'x',
      'config/top.toml': 't',
      'config/sub/deep.toml': 'd',
      'zeta/sub/deep.toml': 'd',
    });
    const e = await rejection(diffTrees(scope, live, restored));
    expect(e).toMatchObject({ code: 'LINK_IN_TREE', exitCode: 3 });
    expect(e.links).toEqual([
      { path: 'config/sub', target: '/srv/sub' },
      { path: 'state', target: 'elsewhere' },
      { path: 'zeta/sub', target: '/srv/zeta' },
    ]);
    expect(e.message).toMatch(
      new RegExp(`^the test restore into ${restored} worked, but a real restore would be refused: 3 links stand`),
    );
  });

  it('leaves alone a live link where the backup has no folder (a module added since), as a real restore does', async () => {
    const scope = { paths: ['modules/*/state/'] };
    const live = await tree(
      { 'modules/zeroia/state/a.toml': 'a', 'elsewhere/b.toml': 'b' },
      { 'modules/newmod': '../elsewhere' },
    );
    const restored = await tree({ 'modules/zeroia/state/a.toml': 'a' });
    expect(await diffTrees(scope, live, restored)).toEqual({ added: [], removed: [], changed: [], unchanged: 1 });
  });

  it('refuses a link where a file pattern has to go through a folder', async () => {
    const scope = { paths: ['config/*.toml'] };
    const live = await tree({ 'real/a.toml': 'a' }, { config: 'real' });
    const restored = await tree({ 'config/a.toml': 'a' });
    expect((await rejection(diffTrees(scope, live, restored))).links).toEqual([{ path: 'config', target: 'real' }]);
  });
});
