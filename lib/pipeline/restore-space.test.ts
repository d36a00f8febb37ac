import { cp, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isArkError } from '../errors.ts';
import { fingerprint, smallRoot, sweepPolicy } from '../io-faults/index.ts';
import { noneController } from '../services/index.ts';
import { mountTmpfs, tempDir } from '../testing.ts';
import { runFullBackup } from './backup.ts';
import { disasterRecovery } from './disaster-recovery.ts';
import { emergencyRestore } from './emergency-restore.ts';

// A restore into a root whose file system is nearly full (a small tmpfs): stopped before
// anything is written, naming the space it needs and has; the same command succeeds once
// space is freed. Where the need is not known in advance, the disk filling up during staging
// is named too, and nothing live changes.

const mounts: { unmount(): Promise<void> }[] = [];
afterEach(async () => {
  for (const m of mounts.splice(0)) await m.unmount();
});

async function world() {
  const source = await smallRoot();
  const backupDir = await tempDir('ark-space-bk-');
  await runFullBackup({
    root: source,
    backupDir,
    date: '20260110',
    policy: sweepPolicy,
    sink: () => {},
    gitCommit: async () => null,
    host: 'test',
  });
  const fs = await mountTmpfs('8m');
  mounts.push(fs);
  const root = join(fs.dir, 'arkalia-luna-pro');
  await cp(source, root, { recursive: true });
  await writeFile(join(root, 'modules/zeroia/state/zeroia_state.toml'), 'broken = = 1\n');
  return { root, backupDir, mount: fs.dir, filler: join(fs.dir, 'filler') };
}

/** Leave about `free` bytes on the tmpfs. */
async function fill(filler: string, mount: string, free: number): Promise<void> {
  const { statfs } = await import('node:fs/promises');
  const s = await statfs(mount);
  await writeFile(filler, Buffer.alloc(Math.max(0, s.bavail * s.bsize - free)));
}

describe('restore on a nearly full file system', () => {
  it('disaster recovery: refused before staging, naming what it needs and has there; after freeing space, it completes', async () => {
    const w = await world();
    await fill(w.filler, w.mount, 1024 * 1024);
    const before = await fingerprint(w.root);
    const recover = () =>
      disasterRecovery({
        root: w.root,
        backupDir: w.backupDir,
        policy: sweepPolicy,
        services: noneController,
        sink: () => {},
      });
    const error = await recover().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'IO_NO_SPACE', exitCode: 1 });
    const message = (error as Error).message;
    expect(message).toContain(`mounted at ${w.mount}`);
    expect(message).toMatch(
      /needs [\d.]+ MiB \(staging the states, configs, infra, database of arkalia_20260110 \([\d.]+ KiB\), plus 4\.0 MiB to spare\) and has [\d.]+ (KiB|MiB) free/,
    );
    expect(message).toContain(`Nothing in ${w.root} was changed.`);
    expect(await fingerprint(w.root)).toEqual(before);
    expect((await readdir(w.mount)).sort()).toEqual(['arkalia-luna-pro', 'filler']); // no workspace left
    await rm(w.filler);
    const report = await recover();
    expect(
      report.changes.some((c) => c.path === 'modules/zeroia/state/zeroia_state.toml' && c.action === 'replace'),
    ).toBe(true);
  });

  it('emergency restore: the disk filling up while it stages is named (no space, where), and nothing live changes', async () => {
    const w = await world();
    await writeFile(join(w.root, 'modules/zeroia/state/big.toml'), `pad = "${'x'.repeat(64 * 1024)}"\n`);
    await fill(w.filler, w.mount, 0);
    const before = await fingerprint(w.root);
    const restore = () =>
      emergencyRestore({
        root: w.root,
        backupDir: w.backupDir,
        module: 'zeroia',
        policy: sweepPolicy,
        services: noneController,
        sink: () => {},
      });
    const error = await restore().catch((e: unknown) => e);
    expect(isArkError(error) && error.code).toBe('IO_NO_SPACE');
    expect((error as Error).message).toMatch(/no space left/);
    expect((error as Error).message).toContain(`Nothing in ${w.root} was changed.`);
    expect(await fingerprint(w.root)).toEqual(before);
    await rm(w.filler);
    const report = await restore();
    expect(report.changes.map((c) => [c.path, c.action])).toContainEqual(['modules/zeroia/state/big.toml', 'remove']);
  });
});
