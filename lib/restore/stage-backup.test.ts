import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tarEntry, tarGz } from '../archive/testing.ts';
import { sha256Buffer } from '../checksum/index.ts';
import { recordingSink } from '../events.ts';
import { tempDir } from '../testing.ts';
import { archiveCandidate } from './backup-candidate.ts';
import { moduleStateScope } from './restore-scope.ts';
import { stageBackup } from './stage-backup.ts';

const STATE = 'modules/zeroia/state/zeroia_state.toml';

/** Stage the zeroia state from a states archive made of `entries` (name → content, in order). */
async function stage(entries: [string, string][]) {
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
  });
}

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
});
