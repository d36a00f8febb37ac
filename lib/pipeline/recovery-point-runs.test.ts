import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ArkEvent } from '../events.ts';
import { fileTexts, tempDir } from '../testing.ts';
import { backup, entry, fixture, inode, warnings } from './testing.ts';
import { VERIFIED_FILE } from './verified-archives.ts';

// A point that writes the states again copies, from the previous point's verified archive,
// the runs of members that did not change (archive/segments.ts), and reads only the rest;
// the archive is still complete, GNU-readable and the same tree a fresh backup holds.

const run = promisify(execFile);

/** The fixture with 700 more state files (~5 MB): enough for the states to be several runs. */
async function bigStates(): Promise<string> {
  const root = await fixture();
  for (let i = 0; i < 700; i += 1)
    await writeFile(
      join(root, 'state', `bulk_${String(i).padStart(4, '0')}.toml`),
      `n = ${i}\nv = "${'x'.repeat(2000 + ((i * 53) % 9000))}"\n`,
    );
  return root;
}

const written = (events: ArkEvent[], archive: string) =>
  events.find(
    (e): e is Extract<ArkEvent, { kind: 'archive-written' }> => e.kind === 'archive-written' && e.archive === archive,
  );

async function extracted(dir: string, file: string): Promise<string> {
  const into = await tempDir('ark-runs-x-');
  await run('tar', ['-xzf', join(dir, file), '-C', into]);
  return into;
}

describe('recovery points: runs copied from the previous archive', () => {
  it('copies every run but the changed one; the point verifies, and extracts to the same tree a fresh backup holds', async () => {
    const root = await bigStates();
    const dir = await tempDir('ark-runs-');
    const first = await backup(root, dir, '2026-07-01T03:00:00', { point: true });
    const index = entry(first.manifest, 'states').segments!;
    expect(index.runs.length).toBeGreaterThan(3);

    await writeFile(join(root, 'state', 'bulk_0577.toml'), 'n = 577\nchanged = true\n');
    const hourly = await backup(root, dir, '2026-07-01T04:00:00', { point: true });
    const states = entry(hourly.manifest, 'states');
    expect(states.reused_from).toBeUndefined(); // written, not linked
    const event = written(hourly.events, 'states')!;
    expect(event.copied).toMatchObject({ runs: index.runs.length - 2, of: index.runs.length - 1 });
    expect(event.copied!.from).toBe(entry(first.manifest, 'states').file);
    expect(states.members).toBe(entry(first.manifest, 'states').members);
    await run('sha256sum', ['-c', '--quiet', `checksums_${hourly.report.date}.sha256`], { cwd: hourly.report.dir });
    await run('gzip', ['-t', join(hourly.report.dir, states.file)]);
    const tree = await extracted(hourly.report.dir, states.file);
    expect(await fileTexts(join(tree, 'state'))).toEqual(await fileTexts(join(root, 'state')));

    // The same tree, archived from scratch into another folder: the same tar bytes.
    const fresh = await backup(root, await tempDir('ark-runs-'), '2026-07-01T04:00:00', { point: true });
    const tarOf = async (d: string, f: string) =>
      (await run('sh', ['-c', `gzip -dc '${join(d, f)}' | sha256sum`])).stdout;
    expect(await tarOf(hourly.report.dir, states.file)).toBe(
      await tarOf(fresh.report.dir, entry(fresh.manifest, 'states').file),
    );
    expect(states.tar_bytes).toBe(entry(fresh.manifest, 'states').tar_bytes);
  });

  it('still reports a state file that does not parse when its run was copied (known from the previous point)', async () => {
    const root = await bigStates();
    const dir = await tempDir('ark-runs-');
    const first = await backup(root, dir, '2026-07-01T03:00:00', { point: true });
    expect(first.report.invalidStates.map((s) => s.path)).toContain('state/global_context.toml');
    await writeFile(join(root, 'state', 'bulk_0650.toml'), 'n = 650\nchanged = true\n');
    const hourly = await backup(root, dir, '2026-07-01T04:00:00', { point: true });
    expect(written(hourly.events, 'states')!.copied!.runs).toBeGreaterThan(0);
    expect(hourly.manifest.invalid_states).toContainEqual(
      expect.objectContaining({ path: 'state/global_context.toml', archive: 'states' }),
    );
    expect(hourly.events).toContainEqual(
      expect.objectContaining({ kind: 'invalid-state', path: 'state/global_context.toml', known: true }),
    );
    // The contents known to parse are kept: the next point parses only what changed.
    const record = JSON.parse(await readFile(join(dir, VERIFIED_FILE), 'utf8')) as { valid_toml: string[] };
    expect(record.valid_toml.length).toBeGreaterThan(700);
  });

  it('never copies from a previous archive that does not verify: it is said, and the states are archived in full', async () => {
    const root = await bigStates();
    const dir = await tempDir('ark-runs-');
    const first = await backup(root, dir, '2026-07-01T03:00:00', { point: true });
    const damaged = join(first.report.dir, entry(first.manifest, 'states').file);
    const bytes = await readFile(damaged);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
    await writeFile(damaged, bytes); // same inode, one bit flipped: its mtime and ctime move, so it is hashed again
    await writeFile(join(root, 'state', 'bulk_0001.toml'), 'n = 1\nchanged = true\n');
    const hourly = await backup(root, dir, '2026-07-01T04:00:00', { point: true });
    expect(warnings(hourly.events)).toContain('PREVIOUS_ARCHIVE_DAMAGED');
    expect(written(hourly.events, 'states')!.copied).toBeUndefined();
    const states = entry(hourly.manifest, 'states');
    expect(await inode(join(hourly.report.dir, states.file))).not.toBe(await inode(damaged));
    const tree = await extracted(hourly.report.dir, states.file);
    expect(await fileTexts(join(tree, 'state'))).toEqual(await fileTexts(join(root, 'state')));
  });

  it('never copies along an index that does not match its archive (a manifest edited or damaged): said, archived in full', async () => {
    const root = await bigStates();
    const dir = await tempDir('ark-runs-');
    const first = await backup(root, dir, '2026-07-01T03:00:00', { point: true });
    const manifestFile = join(first.report.dir, `backup_manifest_${first.report.date}.json`);
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8'));
    const states = manifest.archives.find((a: { name: string }) => a.name === 'states');
    states.segments.runs[1].crc32 = (states.segments.runs[1].crc32 + 1) >>> 0;
    await writeFile(manifestFile, JSON.stringify(manifest, null, 2));
    await writeFile(join(root, 'state', 'bulk_0002.toml'), 'n = 2\nchanged = true\n');
    const hourly = await backup(root, dir, '2026-07-01T04:00:00', { point: true });
    expect(hourly.events).toContainEqual(
      expect.objectContaining({
        kind: 'warning',
        code: 'PREVIOUS_ARCHIVE_DAMAGED',
        message: expect.stringMatching(/does not match the index of runs its manifest gives: none of it is reused/),
      }),
    );
    expect(written(hourly.events, 'states')!.copied).toBeUndefined();
    const tree = await extracted(hourly.report.dir, entry(hourly.manifest, 'states').file);
    expect(await fileTexts(join(tree, 'state'))).toEqual(await fileTexts(join(root, 'state')));
  });

  it('writes whole (no runs) with ARK_TAR=gnu, and copies nothing from such an archive later', async () => {
    const root = await bigStates();
    const dir = await tempDir('ark-runs-');
    const first = await backup(root, dir, '2026-07-01T03:00:00', { point: true, tar: 'gnu' });
    expect(entry(first.manifest, 'logs').segments).toBeUndefined();
    expect(entry(first.manifest, 'states').segments).toBeDefined(); // live state: always our own packer
    await writeFile(join(root, 'logs', 'arkalia.log'), 'rotated\n');
    const later = await backup(root, dir, '2026-07-01T16:00:00', { point: true });
    expect(entry(later.manifest, 'logs').reused_from).toBeUndefined();
    expect(written(later.events, 'logs')!.copied).toBeUndefined();
    expect(entry(later.manifest, 'logs').segments).toBeDefined();
  });
});
