// A link planted in the live tree (the containers bind-mount state/, logs/ and module state
// folders read-write) must never make a restore, a backup or a snapshot, all running as root,
// write or read through it. Each test plants links pointing outside the root, runs the real
// script as an operator would, and proves that nothing outside changed and that the message
// names the link (no raw errno text, no stack trace).
import { lstat, mkdir, readFile, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { listArchive } from '../lib/archive/index.ts';
import { copyFixture, REPO_ROOT, tempDir } from '../lib/testing.ts';
import { SAMPLE_ROOT } from '../sample/index.ts';
import { digestTree, envelopeOf, expectNoStackTrace, resultOf, runScript, type ScriptRun } from './testing.ts';

const script = (name: string, args: string[]) =>
  runScript(join(REPO_ROOT, 'scripts', `${name}.mts`), args, {}, { timeoutMs: 120_000 });
const DATE = '20261120';
/** emergency-restore of zeroia's state, services left alone, as an operator types it. */
const restoreZeroia = (root: string, backupDir: string, ...extra: string[]) =>
  script('emergency-restore', ['zeroia', '--root', root, '--backup-dir', backupDir, '--services', 'none', ...extra]);
const ZEROIA = 'modules/zeroia/state';
const ZEROIA_STATE = `${ZEROIA}/zeroia_state.toml`;

/** What lies outside the root, where the planted links point: it must never change. */
interface Outside {
  dir: string;
  before: Record<string, string>;
  unchanged(): Promise<void>;
}

async function outsideFolder(near: string): Promise<Outside> {
  const dir = join(dirname(near), 'outside');
  await mkdir(dir, { recursive: true });
  // Names a restore of zeroia or of state/sandozia would write, and one it would not.
  await writeFile(join(dir, 'zeroia_state.toml'), 'owner = "someone else"\n');
  await writeFile(join(dir, 'latest_metrics.json'), '{"owner":"someone else"}\n');
  await writeFile(join(dir, 'zeroia_config.toml'), 'owner = "someone else"\n');
  await writeFile(join(dir, 'keep.txt'), "not the restore's business\n");
  const before = await digestTree(dir);
  return {
    dir,
    before,
    async unchanged() {
      expect(await digestTree(dir)).toEqual(before);
    },
  };
}

/** A root with a backup of it, and an outside folder beside it. */
async function backedUpRoot(): Promise<{ root: string; backupDir: string; outside: Outside }> {
  const root = await copyFixture();
  const backupDir = await tempDir('ark-links-bk-');
  const backup = await script('full-backup', ['--root', root, '--backup-dir', backupDir, '--date', DATE]);
  expect(backup.code, backup.stderr).toBe(3); // the sample's two conflict-marker files, archived and named
  return { root, backupDir, outside: await outsideFolder(root) };
}

/** Replace a folder of the root by a link to `target`. */
async function plantFolderLink(root: string, rel: string, target: string): Promise<void> {
  await rm(join(root, rel), { recursive: true, force: true });
  await symlink(target, join(root, rel));
}

function expectRefusedNaming(run: ScriptRun, link: string, target: string): void {
  expect(run.code, run.stderr).toBe(3);
  expect(run.stderr).toContain(`${link} -> ${target}`);
  expect(run.stderr).toMatch(/never writes through a link in the live tree, so nothing was changed/);
  expect(run.stderr).not.toMatch(/ENOENT|ENOTDIR|EEXIST|ELOOP|unexpected error/);
  expectNoStackTrace(run);
}

describe('emergency-restore with links planted in the live tree', { timeout: 180_000 }, () => {
  let env: Awaited<ReturnType<typeof backedUpRoot>>;
  beforeAll(async () => {
    env = await backedUpRoot();
  }, 60_000);

  it("the module's state folder is a link out of the root: refused by name (exit 3), nothing written there or in the root", async () => {
    const { root, backupDir, outside } = env;
    await plantFolderLink(root, ZEROIA, outside.dir);
    const live = await digestTree(root);
    const run = await restoreZeroia(root, backupDir, '--json');
    expectRefusedNaming(run, ZEROIA, outside.dir);
    expect(envelopeOf(run)).toMatchObject({
      ok: false,
      exit_code: 3,
      error: { code: 'LINK_IN_TREE', links: [{ path: ZEROIA, target: outside.dir }] },
    });
    await outside.unchanged();
    expect(await digestTree(root)).toEqual(live);
    expect(await readlink(join(root, ZEROIA))).toBe(outside.dir);
    // Moved aside as the message says, the next run restores the real folder.
    const moved = join(root, `${ZEROIA}.link`);
    await rename(join(root, ZEROIA), moved);
    const again = await restoreZeroia(root, backupDir);
    expect(again.code, again.stderr).toBe(0);
    expect((await lstat(join(root, ZEROIA))).isDirectory()).toBe(true);
    expect((await readFile(join(root, ZEROIA_STATE))).equals(await readFile(join(SAMPLE_ROOT, ZEROIA_STATE)))).toBe(
      true,
    );
    await outside.unchanged();
  });

  it('modules/ itself is a link: refused naming it, not the folder below', async () => {
    const { root, backupDir, outside } = await backedUpRoot();
    const modules = join(dirname(root), 'modules-elsewhere');
    await rename(join(root, 'modules'), modules);
    await symlink(modules, join(root, 'modules'));
    const before = await digestTree(modules);
    const run = await restoreZeroia(root, backupDir);
    expectRefusedNaming(run, 'modules', modules);
    expect(await digestTree(modules)).toEqual(before);
    await outside.unchanged();
  });

  it('a state file is a link out of the root: the link itself is replaced by the restored file and kept as the previous version; its target is untouched', async () => {
    const { root, backupDir, outside } = await backedUpRoot();
    await rm(join(root, ZEROIA_STATE));
    await symlink(join(outside.dir, 'zeroia_state.toml'), join(root, ZEROIA_STATE));
    const run = await restoreZeroia(root, backupDir, '--json');
    expect(run.code, run.stderr).toBe(0);
    const report = resultOf(run);
    expect(report.changes).toContainEqual(
      expect.objectContaining({
        path: ZEROIA_STATE,
        action: 'replace',
        current_sha256: `symlink:${join(outside.dir, 'zeroia_state.toml')}`,
      }),
    );
    expect((await lstat(join(root, ZEROIA_STATE))).isFile()).toBe(true);
    expect((await readFile(join(root, ZEROIA_STATE))).equals(await readFile(join(SAMPLE_ROOT, ZEROIA_STATE)))).toBe(
      true,
    );
    const kept = join(report.preserved_at, 'zeroia_state.toml');
    expect((await lstat(kept)).isSymbolicLink()).toBe(true);
    expect(await readlink(kept)).toBe(join(outside.dir, 'zeroia_state.toml'));
    await outside.unchanged();
  });
});

describe('disaster-recovery with links planted in the live tree', { timeout: 240_000 }, () => {
  const dr = (root: string, backupDir: string, extra: string[] = []) =>
    script('disaster-recovery', ['--root', root, '--backup-dir', backupDir, '--services', 'none', ...extra]);

  it("a nested state folder (state/sandozia), the root's config/, a module's state folder: each refused by name (exit 3), nothing changed", async () => {
    for (const [rel, fileBelow] of [
      ['state/sandozia', 'latest_metrics.json'],
      ['config', 'zeroia_config.toml'],
      [ZEROIA, 'zeroia_state.toml'],
    ] as const) {
      const { root, backupDir, outside } = await backedUpRoot();
      await writeFile(join(root, 'state/zeroia_state.toml'), 'damaged = \n'); // something for the restore to do
      await plantFolderLink(root, rel, outside.dir);
      const live = await digestTree(root);
      const run = await dr(root, backupDir);
      expectRefusedNaming(run, rel, outside.dir);
      await outside.unchanged();
      expect(await readFile(join(outside.dir, fileBelow), 'utf8')).toMatch(/someone else/);
      expect(await digestTree(root), rel).toEqual(live);
      expect((await readdir(dirname(root))).filter((n) => n.startsWith('.ark-restore'))).toEqual([]);
    }
  });

  it('a state file that is a link: replaced by the restored file, the link kept as the previous version, its target untouched (exit 0)', async () => {
    const { root, backupDir, outside } = await backedUpRoot();
    await rm(join(root, 'state/zeroia_state.toml'));
    await symlink(join(outside.dir, 'zeroia_state.toml'), join(root, 'state/zeroia_state.toml'));
    const run = await dr(root, backupDir, ['--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = resultOf(run);
    expect(report.changes).toContainEqual(
      expect.objectContaining({ path: 'state/zeroia_state.toml', action: 'replace' }),
    );
    expect((await lstat(join(root, 'state/zeroia_state.toml'))).isFile()).toBe(true);
    expect((await lstat(join(report.preserved_at, 'state/zeroia_state.toml'))).isSymbolicLink()).toBe(true);
    await outside.unchanged();
  });

  it('--test-mode: a link where the backup has a folder fails the test (exit 3, "a real restore would be refused"); nothing outside is read into the diff or changed', async () => {
    const { root, backupDir, outside } = await backedUpRoot();
    await plantFolderLink(root, 'state/sandozia', outside.dir);
    const run = await dr(root, backupDir, ['--test-mode']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(`state/sandozia -> ${outside.dir}`);
    expect(run.stderr).toMatch(/but a real restore would be refused/);
    expect(run.stderr).not.toMatch(/ENOENT|unexpected error/);
    expectNoStackTrace(run);
    await outside.unchanged();
  });

  it('--test-mode: a state file that is a link shows in the diff as that link (never read through); a --sandbox that is a link is refused (exit 2)', async () => {
    const { root, backupDir, outside } = await backedUpRoot();
    await rm(join(root, 'state/zeroia_state.toml'));
    await symlink(join(outside.dir, 'zeroia_state.toml'), join(root, 'state/zeroia_state.toml'));
    const run = await dr(root, backupDir, ['--test-mode', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const { diff } = resultOf(run);
    expect(diff.changed).toContainEqual(
      expect.objectContaining({
        path: 'state/zeroia_state.toml',
        live_sha256: `symlink:${join(outside.dir, 'zeroia_state.toml')}`,
      }),
    );
    await outside.unchanged();

    const empty = join(dirname(root), 'empty-elsewhere');
    await mkdir(empty);
    const link = join(dirname(root), 'sandbox-link');
    await symlink(empty, link);
    const refused = await dr(root, backupDir, ['--test-mode', '--sandbox', link]);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`--sandbox ${link} is a link (to ${empty})`);
    expect(await readdir(empty)).toEqual([]);
  });
});

describe('full-backup and realtime-snapshot never follow a link out of the root, and say so', {
  timeout: 120_000,
}, () => {
  it('full-backup: a state folder and config/ that are links are not archived (nothing of theirs in the archive), named in the output and the manifest', async () => {
    const root = await copyFixture();
    const outside = await outsideFolder(root);
    await plantFolderLink(root, ZEROIA, outside.dir);
    await plantFolderLink(root, 'config', outside.dir);
    const backupDir = await tempDir('ark-links-bk-');
    const run = await script('full-backup', ['--root', root, '--backup-dir', backupDir, '--date', DATE, '--json']);
    expect(run.code, run.stderr).toBe(3); // the two conflict-marker files, as always
    expectNoStackTrace(run);
    for (const rel of [ZEROIA, 'config'])
      expect(run.stderr).toContain(
        `(states: ${rel} a link (to ${outside.dir}): never followed, not archived, skipped)`,
      );
    const dir = join(backupDir, 'daily', `arkalia_${DATE}`);
    const members = (await listArchive(join(dir, `arkalia_states_${DATE}.tar.gz`))).map((m) => m.path);
    expect(members.filter((m) => m.startsWith(ZEROIA) || m.startsWith('config'))).toEqual([]);
    expect(members).toContain('modules/cognitive_reactor/state/cognitive_state.json');
    const manifest = JSON.parse(await readFile(join(dir, `backup_manifest_${DATE}.json`), 'utf8'));
    expect(manifest.skipped).toEqual(
      expect.arrayContaining([
        { archive: 'states', path: 'config', reason: `a link (to ${outside.dir}): never followed, not archived` },
        { archive: 'states', path: ZEROIA, reason: `a link (to ${outside.dir}): never followed, not archived` },
      ]),
    );
    await outside.unchanged();
  });

  it('realtime-snapshot: a state folder and a state file that are links are skipped by name; nothing outside is snapshotted or changed', async () => {
    const root = await copyFixture({ withEnv: false });
    const outside = await outsideFolder(root);
    await plantFolderLink(root, ZEROIA, outside.dir);
    await rm(join(root, 'state/zeroia_state.toml'));
    await symlink(join(outside.dir, 'zeroia_state.toml'), join(root, 'state/zeroia_state.toml'));
    const backupDir = await tempDir('ark-links-rt-');
    const run = await script('realtime-snapshot', ['--root', root, '--backup-dir', backupDir, '--json']);
    expect(run.code, run.stderr).toBe(3); // the two conflict-marker files are never snapshotted
    expectNoStackTrace(run);
    expect(run.stderr).toContain(`${ZEROIA} is a link (to ${outside.dir}): not followed, not snapshotted`);
    expect(run.stderr).toContain(
      `state/zeroia_state.toml is a link (to ${join(outside.dir, 'zeroia_state.toml')}): not followed`,
    );
    const snapshotted = (await readdir(join(backupDir, 'realtime'), { recursive: true })).map(String);
    expect(
      snapshotted.filter((p) => p.startsWith('modules/zeroia') || p.startsWith('state/zeroia_state.toml')),
    ).toEqual([]);
    expect(snapshotted.some((p) => p.startsWith('global_state/global_context.toml.'))).toBe(true);
    await outside.unchanged();
  });
});
