import { cp, readdir, rm, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { fingerprint, smallRoot } from '../lib/io-faults/index.ts';
import { mountTmpfs, tempDir } from '../lib/testing.ts';
import { envelopeOf, expectNoStackTrace, runScript } from './testing.ts';

// The operator at 3 a.m. on a nearly full disk: disaster-recovery into a root whose file
// system has ~1 MiB free is stopped before it writes anything, and says so in words (which
// file system, how much it needs and has, that nothing changed) — no errno, no "unexpected
// error", no journal left; once space is freed the same command completes.

it('disaster-recovery on a nearly full file system: exit 1 naming the space needed and free, nothing changed; then it completes', async () => {
  const source = await smallRoot();
  const backupDir = await tempDir('ark-full-bk-');
  const backup = await runScript('full-backup', ['--root', source, '--backup-dir', backupDir]);
  expect(backup.code, backup.stderr).toBe(3); // the sample's state/global_context.toml is invalid: archived as it is
  const fs = await mountTmpfs('8m');
  try {
    const root = join(fs.dir, 'arkalia-luna-pro');
    await cp(source, root, { recursive: true });
    await writeFile(join(root, 'state/zeroia_state.toml'), 'broken = = 1\n');
    const s = await statfs(fs.dir);
    await writeFile(join(fs.dir, 'filler'), Buffer.alloc(s.bavail * s.bsize - 1024 * 1024));
    const before = await fingerprint(root);
    const args = ['--root', root, '--backup-dir', backupDir, '--services', 'none'];

    const refused = await runScript('disaster-recovery', [...args, '--json']);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `✗ not enough space: .*the file system mounted at ${fs.dir} needs [\\d.]+ MiB .* and has [\\d.]+ (KiB|MiB) free\\. Nothing in ${root} was changed\\. Free space there`,
      ),
    );
    expect(refused.stderr).not.toMatch(/unexpected error|ENOSPC:/);
    expectNoStackTrace(refused);
    expect(envelopeOf(refused, 'disaster-recovery').error).toMatchObject({ code: 'IO_NO_SPACE' });
    expect(await fingerprint(root)).toEqual(before);
    expect((await readdir(fs.dir)).sort()).toEqual(['arkalia-luna-pro', 'filler']);

    await rm(join(fs.dir, 'filler'));
    const done = await runScript('disaster-recovery', args);
    expect(done.code, done.stderr).toBe(0);
  } finally {
    await fs.unmount();
  }
});
