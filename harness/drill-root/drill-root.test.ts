import { execFileSync } from 'node:child_process';
import { chmod, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../lib/testing.ts';
import { SAMPLE_INVALID_STATES, SAMPLE_ROOT } from '../../sample/index.ts';
import { checkArkaliaRoot, copyArkaliaRoot, describeRootSource, drillRootSource } from './index.ts';
import { fingerprintTree } from './testing.ts';
import { linkEscapes } from './walk-root.ts';

/** A small Arkalia-shaped tree an operator might point --root-from at. */
async function operatorRoot(): Promise<{ parent: string; root: string }> {
  const parent = await tempDir('ark-src-');
  const root = join(parent, 'arkalia');
  await mkdir(join(root, 'modules', 'zeroia', 'state'), { recursive: true });
  await mkdir(join(root, 'state'), { recursive: true });
  await writeFile(join(root, 'docker-compose.yml'), 'services: {}\n');
  await writeFile(join(root, 'modules', 'zeroia', 'state', 'zeroia_state.toml'), 'a = 1\n');
  await writeFile(join(root, '.env'), 'SECRET=x\n', { mode: 0o644 });
  return { parent, root };
}

describe('checkArkaliaRoot: a drill source is refused by name before anything starts', () => {
  it('accepts the sample root and says what it holds', async () => {
    const facts = await checkArkaliaRoot(SAMPLE_ROOT);
    expect(facts.root).toBe(SAMPLE_ROOT);
    expect(facts.files).toBeGreaterThan(25);
    expect(facts.skipped).toEqual([]);
  });

  it('refuses what is missing, not a folder, or not an Arkalia root (exit 2)', async () => {
    const dir = await tempDir('ark-src-');
    await expect(checkArkaliaRoot(join(dir, 'nope'))).rejects.toMatchObject({
      exitCode: 2,
      message: `--root-from ${join(dir, 'nope')}: no such folder`,
    });
    await writeFile(join(dir, 'file'), 'x');
    await expect(checkArkaliaRoot(join(dir, 'file'))).rejects.toMatchObject({
      exitCode: 2,
      message: `--root-from ${join(dir, 'file')} is not a folder`,
    });
    await expect(checkArkaliaRoot(dir)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(
        /is not an Arkalia root: it has no modules\/ folder and no docker-compose\.yml \(an Arkalia root holds/,
      ),
    });
    await mkdir(join(dir, 'modules'));
    await expect(checkArkaliaRoot(dir)).rejects.toMatchObject({
      message: expect.stringMatching(/it has no docker-compose\.yml \(/),
    });
    await writeFile(join(dir, 'compose.yaml'), 'services: {}\n');
    await expect(checkArkaliaRoot(dir)).resolves.toMatchObject({ files: 2 });
  });

  it('refuses links that lead out of the tree, naming each; links inside it are fine', async () => {
    const { parent, root } = await operatorRoot();
    await mkdir(join(parent, 'outside'));
    await symlink('zeroia', join(root, 'modules', 'zeroia-link')); // inside: fine
    await expect(checkArkaliaRoot(root)).resolves.toMatchObject({ files: 3 });
    await symlink(join(parent, 'outside'), join(root, 'logs'));
    await symlink('../../../outside', join(root, 'modules', 'zeroia', 'state-elsewhere'));
    const refused = await checkArkaliaRoot(root).catch((e: Error & { exitCode: number }) => e);
    expect(refused).toMatchObject({ exitCode: 2 });
    expect((refused as Error).message).toContain(`2 link(s) lead out of the tree`);
    expect((refused as Error).message).toContain(`logs -> ${join(parent, 'outside')}`);
    expect((refused as Error).message).toContain('modules/zeroia/state-elsewhere -> ../../../outside');
  });

  it('follows the argument itself when it is a link to the root', async () => {
    const { parent, root } = await operatorRoot();
    await symlink(root, join(parent, 'current'));
    await expect(checkArkaliaRoot(join(parent, 'current'))).resolves.toMatchObject({ root });
  });

  it('linkEscapes: absolute targets always, relative ones that climb above the top', () => {
    expect(linkEscapes('a/b', '/etc')).toBe(true);
    expect(linkEscapes('a/b', '../..')).toBe(true);
    expect(linkEscapes('a/b', '../../x')).toBe(true);
    expect(linkEscapes('a/b', '../x')).toBe(false);
    expect(linkEscapes('a/b', 'c/../../d')).toBe(false);
    expect(linkEscapes('b', '..')).toBe(true);
  });
});

describe('copyArkaliaRoot: a fresh, writable, private copy; the source only read', () => {
  it('copies the sample exactly (contents, times, links), writable, .env 0600, and leaves the source as it was', async () => {
    const before = await fingerprintTree(SAMPLE_ROOT);
    const dest = join(await tempDir('ark-copy-'), 'arkalia-luna-pro');
    const copied = await copyArkaliaRoot(SAMPLE_ROOT, dest);
    expect(copied.skipped).toEqual([]);
    expect(await fingerprintTree(SAMPLE_ROOT)).toBe(before);
    for (const rel of ['docker-compose.yml', 'version.toml', ...SAMPLE_INVALID_STATES]) {
      expect((await readFile(join(dest, rel))).equals(await readFile(join(SAMPLE_ROOT, rel))), rel).toBe(true);
      expect(
        Math.abs((await stat(join(dest, rel))).mtimeMs - (await stat(join(SAMPLE_ROOT, rel))).mtimeMs),
      ).toBeLessThan(1);
    }
    expect((await stat(join(dest, '.env'))).mode & 0o777).toBe(0o600);
  });

  it('adds owner write access to read-only files and folders, keeps in-tree links, skips FIFOs and names them', async () => {
    const { root } = await operatorRoot();
    await symlink('zeroia_state.toml', join(root, 'modules', 'zeroia', 'state', 'current.toml'));
    execFileSync('mkfifo', [join(root, 'state', 'pipe')]);
    await chmod(join(root, 'modules', 'zeroia', 'state', 'zeroia_state.toml'), 0o444);
    await chmod(join(root, 'modules', 'zeroia', 'state'), 0o555);
    const before = await fingerprintTree(root);
    const dest = join(await tempDir('ark-copy-'), 'arkalia');
    const copied = await copyArkaliaRoot(root, dest);
    expect(await fingerprintTree(root)).toBe(before);
    expect(copied).toMatchObject({ files: 3, skipped: ['state/pipe (not a file, folder or link)'] });
    expect((await stat(join(dest, 'modules', 'zeroia', 'state', 'zeroia_state.toml'))).mode & 0o777).toBe(0o644);
    expect((await stat(join(dest, 'modules', 'zeroia', 'state'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dest, '.env'))).mode & 0o777).toBe(0o600);
    expect(await readlink(join(dest, 'modules', 'zeroia', 'state', 'current.toml'))).toBe('zeroia_state.toml');
    await chmod(join(root, 'modules', 'zeroia', 'state'), 0o755);
  });

  it('refuses a source with a link out of the tree before writing anything', async () => {
    const { parent, root } = await operatorRoot();
    await mkdir(join(parent, 'outside'));
    await symlink(join(parent, 'outside'), join(root, 'modules', 'zeroia', 'logs'));
    const dest = join(await tempDir('ark-copy-'), 'arkalia');
    await expect(copyArkaliaRoot(root, dest)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining(`modules/zeroia/logs -> ${join(parent, 'outside')}`),
    });
    await expect(stat(dest)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('where a drill takes its root from', () => {
  it('ARK_DRILL_ROOT, else the sample; named relative to the checkout when inside it', () => {
    expect(drillRootSource({})).toBe(SAMPLE_ROOT);
    expect(drillRootSource({ ARK_DRILL_ROOT: '/srv/arkalia' })).toBe('/srv/arkalia');
    expect(describeRootSource(SAMPLE_ROOT)).toBe('sample/arkalia-luna-pro');
    expect(describeRootSource('/srv/arkalia')).toBe('/srv/arkalia');
  });
});
