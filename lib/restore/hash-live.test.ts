import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { tempDir } from '../testing.ts';
import { hashLive } from './hash-live.ts';
import { hashTree } from './hash-tree.ts';

// What the restore plans against: the live files it may touch, read without following links.

// sha256File, able to fail for one file as a disk (EIO) or a concurrent writer (ENOENT,
// ENOTDIR: the file or its folder replaced between the look and the read) would make it.
const faults = vi.hoisted(() => ({ failing: new Map<string, string>() }));
vi.mock('../checksum/index.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../checksum/index.ts')>();
  const sha256File: typeof real.sha256File = async (path, onBytes) => {
    const code = faults.failing.get(path);
    if (code !== undefined) throw Object.assign(new Error(`${code}: reading ${path}`), { code });
    return real.sha256File(path, onBytes);
  };
  return { ...real, sha256File };
});

const servers: Server[] = [];
afterEach(async () => {
  faults.failing.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
});

async function tree(files: Record<string, string>): Promise<string> {
  const root = join(await tempDir('ark-live-'), 'root');
  await mkdir(root, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
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

describe('hashLive', () => {
  it('hashes every file under the mirrored folders, and the live counterpart of each staged path', async () => {
    const root = await tree({
      'm/state/a.toml': 'a',
      'm/state/sub/b.toml': 'b',
      'config/c.toml': 'c',
      'config/untouched.toml': 'u',
    });
    const live = await hashLive(
      root,
      ['m/state/a.toml', 'config/c.toml', 'config/new.toml', 'docs/new.md'],
      ['m/state/'],
    );
    expect(live).toEqual(
      new Map([
        ['m/state/a.toml', sha('a')],
        ['m/state/sub/b.toml', sha('b')],
        ['config/c.toml', sha('c')],
      ]),
    );
  });

  it('counts a link where a file is as symlink:<target>, in a mirrored folder or not, without following it', async () => {
    const root = await tree({ 'm/state/a.toml': 'a', 'elsewhere.toml': 'outside' });
    await symlink('../../elsewhere.toml', join(root, 'm/state/l.toml'));
    await mkdir(join(root, 'config'));
    await symlink('/etc/passwd', join(root, 'config/c.toml'));
    const live = await hashLive(root, ['config/c.toml'], ['m/state/']);
    expect(live.get('m/state/l.toml')).toBe('symlink:../../elsewhere.toml');
    expect(live.get('config/c.toml')).toBe('symlink:/etc/passwd');
  });

  it('counts a folder, a socket or a file where a folder should be as absent (the swap then fails and rolls back)', async () => {
    const root = await tree({ 'config/c.toml/inner': 'x', notadir: 'file' });
    const server = createServer();
    servers.push(server);
    await new Promise<void>((done) => server.listen(join(root, 'sock'), done));
    const live = await hashLive(root, ['config/c.toml', 'notadir/x.toml', 'sock'], []);
    expect(live).toEqual(new Map());
  });

  it('counts a file that goes away while it is read as absent, but fails on a disk error', async () => {
    const root = await tree({ 'config/a.toml': 'a', 'config/b.toml': 'b', 'm/c.toml': 'c' });
    faults.failing.set(join(root, 'config/a.toml'), 'ENOENT');
    faults.failing.set(join(root, 'config/b.toml'), 'ENOTDIR');
    expect(await hashLive(root, ['config/a.toml', 'config/b.toml', 'm/c.toml'], [])).toEqual(
      new Map([['m/c.toml', sha('c')]]),
    );
    faults.failing.set(join(root, 'm/c.toml'), 'EIO');
    expect(await rejection(hashLive(root, ['m/c.toml'], []))).toMatchObject({ code: 'EIO' });
  });

  it('fails, rather than counting as absent, a path the system cannot even look at', async () => {
    const root = await tree({ 'config/c.toml': 'c' });
    const e = await rejection(hashLive(root, [`config/${'x'.repeat(300)}.toml`], []));
    expect(e.code).toBe('ENAMETOOLONG');
  });

  it('refuses (exit 3) a link where the backup has a folder: a mirrored folder, or above a staged file, naming each once, sorted', async () => {
    const root = await tree({ 'real/a.toml': 'a', 'config/c.toml': 'c' });
    await mkdir(join(root, 'm'));
    await symlink('../real', join(root, 'm/state'));
    await symlink('real', join(root, 'b'));
    await symlink('/srv/z', join(root, 'z'));
    const e = await rejection(
      hashLive(root, ['z/x.toml', 'b/one.toml', 'b/two.toml', 'config/c.toml', 'm/state/a.toml'], ['m/state/']),
    );
    expect(e).toMatchObject({ code: 'LINK_IN_TREE', exitCode: 3 });
    expect(e.links).toEqual([
      { path: 'b', target: 'real' },
      { path: 'm/state', target: '../real' },
      { path: 'z', target: '/srv/z' },
    ]);
    expect(e.message).toMatch(/^the restore refused: 3 links stand where the backup has a folder: b -> real, /);
  });

  it('refuses a link above a mirrored folder too', async () => {
    const root = await tree({ 'real/state/a.toml': 'a' });
    await symlink('real', join(root, 'm'));
    const e = await rejection(hashLive(root, [], ['m/state/']));
    expect(e.links).toEqual([{ path: 'm', target: 'real' }]);
  });

  it('takes a known sha256 without reading the file (mirrored or staged), but still not through a link', async () => {
    const root = await tree({ 'm/state/a.toml': 'a', 'm/state/b.toml': 'b', 'config/c.toml': 'c' });
    await symlink('/srv/x', join(root, 'm/state/l.toml'));
    // Unreadable if read: the known value is what comes back, so neither was opened.
    faults.failing.set(join(root, 'm/state/a.toml'), 'EIO');
    faults.failing.set(join(root, 'config/c.toml'), 'EIO');
    const known = new Map([
      ['m/state/a.toml', 'known-a'],
      ['config/c.toml', 'known-c'],
      ['m/state/l.toml', 'not a link'],
    ]);
    expect(await hashLive(root, ['config/c.toml', 'm/state/a.toml'], ['m/state/'], known)).toEqual(
      new Map([
        ['m/state/a.toml', 'known-a'],
        ['m/state/b.toml', sha('b')],
        ['m/state/l.toml', 'symlink:/srv/x'],
        ['config/c.toml', 'known-c'],
      ]),
    );
    await mkdir(join(root, 'real'));
    await symlink('real', join(root, 'n'));
    const e = await rejection(hashLive(root, ['n/x.toml'], [], new Map([['n/x.toml', 'known']])));
    expect(e).toMatchObject({ code: 'LINK_IN_TREE' });
  });
});

describe('hashTree', () => {
  it('maps every regular file under a folder to its sha256, minus the ones skipped', async () => {
    const root = await tree({ 'a.toml': 'a', 'sub/b.toml': 'b', 'sub/.tmp': 't' });
    await symlink('a.toml', join(root, 'link'));
    expect(await hashTree(root)).toEqual(
      new Map([
        ['a.toml', sha('a')],
        ['sub/.tmp', sha('t')],
        ['sub/b.toml', sha('b')],
      ]),
    );
    expect(await hashTree(root, (name) => name.endsWith('.tmp'))).toEqual(
      new Map([
        ['a.toml', sha('a')],
        ['sub/b.toml', sha('b')],
      ]),
    );
  });

  it('is empty for a folder that does not exist or is a file; other failures are not hidden', async () => {
    const root = await tree({ file: 'x' });
    expect(await hashTree(join(root, 'missing'))).toEqual(new Map());
    expect(await hashTree(join(root, 'file'))).toEqual(new Map());
    expect(await rejection(hashTree(join(root, 'y'.repeat(300))))).toMatchObject({ code: 'ENAMETOOLONG' });
  });
});
