import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { recordingSink } from '../events.ts';
import { copyFixture, FIXTURE_ROOT, tempDir } from '../testing.ts';
import { findBackups, type BackupRef } from './find-backups.ts';
import { stageModuleState } from './stage-module-state.ts';

const run = promisify(execFile);
const DATE = '20260110';

/** A daily backup of `root` written with GNU tar and sha256sum, as the runbook does. */
async function gnuBackup(root: string): Promise<BackupRef> {
  const backupDir = await tempDir('ark-stage-bk-');
  const dir = join(backupDir, 'daily', `arkalia_${DATE}`);
  await mkdir(dir, { recursive: true });
  await run('bash', ['-c', 'tar -czf "$1/arkalia_states_$2.tar.gz" modules/*/state/ state/ global_state/ config/ .env && cd "$1" && sha256sum *.tar.gz > "checksums_$2.sha256"', 'backup', dir, DATE], { cwd: root });
  return (await findBackups(backupDir))[0]!;
}

async function rewriteChecksums(backup: BackupRef): Promise<void> {
  await run('bash', ['-c', 'cd "$1" && sha256sum *.tar.gz > "$(basename "$2")"', 'sums', backup.dir, backup.checksumFile]);
}

const exists = (path: string) => stat(path).then(() => true, () => false);

// One pristine backup of the fixture; tests that tamper with it get their own copy.
let pristine: BackupRef;
beforeAll(async () => {
  pristine = await gnuBackup(await copyFixture());
});

async function freshBackup(): Promise<BackupRef> {
  const backupDir = await tempDir('ark-stage-bk-');
  await cp(join(pristine.dir, '..', '..'), backupDir, { recursive: true });
  return (await findBackups(backupDir))[0]!;
}

describe('stageModuleState', () => {
  it('verifies the checksum, then extracts only modules/<module>/state/ and hashes it', async () => {
    const backup = await freshBackup();
    const stagingRoot = join(await tempDir(), 'staging');
    const sink = recordingSink();
    const staged = await stageModuleState({ backup, module: 'zeroia', stagingRoot, sink });
    expect(sink.events[0]).toMatchObject({ kind: 'checksum-verified', file: backup.statesArchive });
    expect(await readdir(stagingRoot)).toEqual(['modules']);
    expect(await readdir(join(stagingRoot, 'modules'))).toEqual(['zeroia']);
    const want = ['zeroia_decision_log.toml', 'zeroia_state.toml'];
    expect(staged.files.map((f) => f.name)).toEqual(want);
    for (const f of staged.files) {
      const original = await readFile(join(FIXTURE_ROOT, 'modules/zeroia/state', f.name));
      expect(f.sha256).toBe(sha256Buffer(original));
      expect((await readFile(join(staged.dir, f.name))).equals(original)).toBe(true);
    }
    await staged.discard();
    expect(await exists(stagingRoot)).toBe(false);
  });

  it('checks the checksum before reading the archive: a flipped byte extracts nothing (exit 3)', async () => {
    const backup = await freshBackup();
    const bytes = await readFile(backup.statesArchive);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await writeFile(backup.statesArchive, bytes);
    const stagingRoot = join(await tempDir(), 'staging');
    await expect(stageModuleState({ backup, module: 'zeroia', stagingRoot, sink: recordingSink() })).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH', exitCode: 3 });
    expect(await exists(stagingRoot)).toBe(false); // never even created
  });

  it('refuses an archive nobody vouches for: checksum file missing (exit 3), or not listing the archive (exit 3)', async () => {
    const backup = await freshBackup();
    const stagingRoot = join(await tempDir(), 'staging');
    await rm(backup.checksumFile);
    const error = await stageModuleState({ backup, module: 'zeroia', stagingRoot, sink: recordingSink() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CHECKSUM_FILE_MISSING', exitCode: 3 });
    expect((error as Error).message).toMatch(/has no readable checksums_20260110\.sha256, so arkalia_states_20260110\.tar\.gz cannot be verified: refusing to extract it/);
    await writeFile(backup.checksumFile, `${sha256Buffer('other')}  arkalia_logs_${DATE}.tar.gz\n`);
    await expect(stageModuleState({ backup, module: 'zeroia', stagingRoot, sink: recordingSink() })).rejects.toMatchObject({ code: 'CHECKSUM_NOT_LISTED', exitCode: 3 });
    expect(await exists(stagingRoot)).toBe(false);
  });

  it('fails with exit 1 when the states archive is missing', async () => {
    const backup = await freshBackup();
    await rm(backup.statesArchive);
    await expect(stageModuleState({ backup, module: 'zeroia', stagingRoot: join(await tempDir(), 's'), sink: recordingSink() })).rejects.toMatchObject({ code: 'STATES_ARCHIVE_MISSING', exitCode: 1 });
  });

  it('throws ARCHIVE_CORRUPT (exit 3) for a truncated archive whose checksum was recomputed, and leaves no staging', async () => {
    const backup = await freshBackup();
    await truncate(backup.statesArchive, Math.floor((await stat(backup.statesArchive)).size * 0.6));
    await rewriteChecksums(backup);
    const stagingRoot = join(await tempDir(), 'staging');
    await expect(stageModuleState({ backup, module: 'zeroia', stagingRoot, sink: recordingSink() })).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT', exitCode: 3 });
    expect(await exists(stagingRoot)).toBe(false);
  });

  it('rejects a backup whose module state is not valid TOML (exit 3), naming the file', async () => {
    const root = await copyFixture();
    await writeFile(join(root, 'modules/zeroia/state/zeroia_state.toml'), '<<<<<<< HEAD\nx = 1\n=======\nx = 2\n>>>>>>> dev\n');
    const backup = await gnuBackup(root);
    const stagingRoot = join(await tempDir(), 'staging');
    const error = await stageModuleState({ backup, module: 'zeroia', stagingRoot, sink: recordingSink() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BACKUP_STATE_INVALID', exitCode: 3 });
    expect((error as Error).message).toMatch(/modules\/zeroia\/state\/zeroia_state\.toml: git merge-conflict markers \(line 1/);
    expect(await exists(stagingRoot)).toBe(false);
  });

  it('fails with exit 1 for a module the backup holds no state for', async () => {
    const backup = await freshBackup();
    const stagingRoot = join(await tempDir(), 'staging');
    await expect(stageModuleState({ backup, module: 'sandozia', stagingRoot, sink: recordingSink() })).rejects.toMatchObject({
      code: 'MODULE_NOT_IN_BACKUP',
      exitCode: 1,
      message: expect.stringContaining('no state for module "sandozia"'),
    });
    expect(await exists(stagingRoot)).toBe(false);
  });

  it('does not stage symlinks or entries escaping the state folder, even from a verified archive', async () => {
    const root = await copyFixture();
    await symlink('/etc/passwd', join(root, 'modules/zeroia/state/passwd.toml'));
    const backup = await gnuBackup(root);
    const sink = recordingSink();
    const staged = await stageModuleState({ backup, module: 'zeroia', stagingRoot: join(await tempDir(), 'staging'), sink });
    expect(staged.files.map((f) => f.name)).toEqual(['zeroia_decision_log.toml', 'zeroia_state.toml']);
    expect(staged.refused).toEqual([{ entry: 'modules/zeroia/state/passwd.toml', reason: 'entry type SymbolicLink is not restored' }]);
    expect(sink.events).toContainEqual({ kind: 'entry-refused', entry: 'modules/zeroia/state/passwd.toml', reason: 'entry type SymbolicLink is not restored' });
    await staged.discard();
  });
});
