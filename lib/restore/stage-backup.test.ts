import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tarEntry, tarGz } from '../archive/testing.ts';
import { sha256Buffer } from '../checksum/index.ts';
import { recordingSink } from '../events.ts';
import { tempDir, writeTree } from '../testing.ts';
import { archiveCandidate } from './backup-candidate.ts';
import { moduleStateScope } from './restore-scope.ts';
import { listFiles, stageBackup } from './stage-backup.ts';

const STATE = 'modules/zeroia/state/zeroia_state.toml';

/** Stage the zeroia state from a states archive made of `entries` (name → content, in order). */
async function stage(entries: [string, string][], liveRoot?: string) {
  const dir = await tempDir('ark-stage-');
  const bytes = tarGz(entries.map(([name, content]) => tarEntry({ name, type: '0', data: Buffer.from(content) })));
  const file = join(dir, 'arkalia_states_20261126.tar.gz');
  await writeFile(file, bytes);
  const candidate = archiveCandidate({ archive: 'states', file, sha256: sha256Buffer(bytes) });
  return stageBackup({
    candidate,
    scope: moduleStateScope('zeroia'),
    stagingDir: join(dir, 'staging'),
    sink: recordingSink(),
    ...(liveRoot ? { liveRoot } : {}),
  });
}

const liveTree = (files: Record<string, string>) => writeTree(files, 'ark-live-');

describe('stageBackup', () => {
  it('hashes every staged file as written, and checks its TOML (on a worker): an invalid state rejects the backup, naming it', async () => {
    const staged = await stage([
      [STATE, 'score = 1\n'],
      ['modules/zeroia/state/notes.json', '{}'],
      ['modules/zeroia/state/b.toml', 'b = 2\n'],
    ]);
    expect([...staged.files.keys()]).toEqual(['modules/zeroia/state/b.toml', 'modules/zeroia/state/notes.json', STATE]);
    for (const [path, file] of staged.files)
      expect(file.sha256).toBe(sha256Buffer(await readFile(join(staged.dir, path))));
    await staged.discard();
    await expect(
      stage([
        [STATE, 'score = 1\n'],
        ['modules/zeroia/state/bad.toml', '<<<<<<< HEAD\n'],
      ]),
    ).rejects.toMatchObject({
      code: 'BACKUP_STATE_INVALID',
      message: expect.stringContaining('modules/zeroia/state/bad.toml'),
    });
  });

  it('a state held twice in the archive counts as its last version, on disk: valid after invalid is staged, invalid after valid is refused', async () => {
    const staged = await stage([
      [STATE, '<<<<<<< HEAD\n'],
      [STATE, 'score = 2\n'],
    ]);
    expect(await readFile(join(staged.dir, STATE), 'utf8')).toBe('score = 2\n');
    expect(staged.files.get(STATE)?.sha256).toBe(sha256Buffer('score = 2\n'));
    await staged.discard();
    await expect(
      stage([
        [STATE, 'score = 2\n'],
        [STATE, '<<<<<<< HEAD\n'],
      ]),
    ).rejects.toMatchObject({ code: 'BACKUP_STATE_INVALID', message: expect.stringContaining(STATE) });
  });

  it('a file the live tree already holds byte for byte is not written to staging, but still listed, hashed and validated', async () => {
    const B = 'modules/zeroia/state/b.toml';
    const N = 'modules/zeroia/state/notes.json';
    const root = await liveTree({ [STATE]: 'score = 1\n', [B]: 'b = 0\n' });
    const staged = await stage(
      [
        [STATE, 'score = 1\n'],
        [B, 'b = 2\n'],
        [N, '{}'],
      ],
      root,
    );
    expect(Object.fromEntries([...staged.files].map(([p, f]) => [p, [f.sha256, f.live ?? false]]))).toEqual({
      [B]: [sha256Buffer('b = 2\n'), false],
      [N]: [sha256Buffer('{}'), false],
      [STATE]: [sha256Buffer('score = 1\n'), true],
    });
    expect(await listFiles(staged.dir)).toEqual([B, N]);
    await staged.discard();
    // Identical to the live file is no pass: an invalid state is refused all the same.
    const broken = await liveTree({ [STATE]: '<<<<<<< HEAD\n' });
    await expect(stage([[STATE, '<<<<<<< HEAD\n']], broken)).rejects.toMatchObject({ code: 'BACKUP_STATE_INVALID' });
    // Held twice, its last version the live one: that version is what is validated.
    const twice = await stage(
      [
        [STATE, '<<<<<<< HEAD\n'],
        [STATE, 'score = 1\n'],
      ],
      root,
    );
    expect(twice.files.get(STATE)).toMatchObject({ sha256: sha256Buffer('score = 1\n'), live: true });
    await twice.discard();
  });

  it('restage writes a left-out file to staging from the archive, and refuses an archive that no longer gives its bytes', async () => {
    const root = await liveTree({ [STATE]: 'score = 1\n' });
    const staged = await stage([[STATE, 'score = 1\n']], root);
    expect(await listFiles(staged.dir)).toEqual([]);
    await staged.restage(['modules/zeroia/state/other.toml']); // not left out: nothing to do
    expect(await listFiles(staged.dir)).toEqual([]);
    await staged.restage([STATE]);
    expect(await readFile(join(staged.dir, STATE), 'utf8')).toBe('score = 1\n');
    expect(staged.files.get(STATE)).toEqual(expect.not.objectContaining({ live: true }));
    await staged.restage([STATE]); // already staged: untouched
    expect(await readFile(join(staged.dir, STATE), 'utf8')).toBe('score = 1\n');

    const again = await stage([[STATE, 'score = 1\n']], root);
    const file = (await again.candidate.archiveFile('states'))!;
    await writeFile(file, tarGz([tarEntry({ name: STATE, type: '0', data: Buffer.from('score = 666\n') })]));
    await expect(again.restage([STATE])).rejects.toMatchObject({
      code: 'ARCHIVE_CHANGED',
      exitCode: 3,
      message: expect.stringContaining(STATE),
    });
    await writeFile(
      file,
      tarGz([tarEntry({ name: 'modules/zeroia/state/x.toml', type: '0', data: Buffer.from('x = 1\n') })]),
    );
    await expect(again.restage([STATE])).rejects.toMatchObject({ code: 'ARCHIVE_CHANGED' });
  });
});
