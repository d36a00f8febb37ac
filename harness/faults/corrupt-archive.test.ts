import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyChecksums } from '../../lib/checksum/index.ts';
import { runFullBackup } from '../../lib/pipeline/backup.ts';
import { resolvePolicy } from '../../lib/policy/index.ts';
import { copyFixture, tempDir } from '../../lib/testing.ts';
import { injectFault } from './index.ts';

let root: string;
let backupDir: string;
beforeAll(async () => {
  root = await copyFixture();
  backupDir = await tempDir('ark-bk-');
  for (const date of ['20260101', '20260102'])
    await runFullBackup({
      root,
      backupDir,
      date,
      policy: resolvePolicy({}, 'test'),
      sink: () => {},
      gitCommit: async () => null,
      host: 'test',
    });
});

const states = (date: string) => join(backupDir, `daily/arkalia_${date}/arkalia_states_${date}.tar.gz`);
const sums = (date: string) => join(backupDir, `daily/arkalia_${date}/checksums_${date}.sha256`);

describe('corrupt-archive fault', () => {
  it.each(['bit-flip', 'truncate'] as const)(
    '%s damages the newest backup so its checksum no longer matches; revert restores it',
    async (mode) => {
      const before = await readFile(states('20260102'));
      const injected = await injectFault(
        { kind: 'corrupt-archive', backup: 'newest', archive: 'states', mode },
        { root, backupDir, stack: null },
      );
      expect(injected.description).toContain('arkalia_states_20260102.tar.gz');
      expect(
        (await verifyChecksums(sums('20260102'))).find((r) => r.name === 'arkalia_states_20260102.tar.gz'),
      ).toMatchObject({ ok: false, problem: 'mismatch' });
      expect((await verifyChecksums(sums('20260101'))).every((r) => r.ok)).toBe(true); // the older one is untouched
      if (mode === 'truncate') expect((await stat(states('20260102'))).size).toBe(Math.floor(before.length / 2));
      await injected.revert();
      expect((await readFile(states('20260102'))).equals(before)).toBe(true);
    },
  );

  it('does not undo a repair made since', async () => {
    const injected = await injectFault(
      { kind: 'corrupt-archive', backup: '20260101', archive: 'states', mode: 'bit-flip' },
      { root, backupDir, stack: null },
    );
    await writeFile(states('20260101'), 'replaced by an operator');
    await injected.revert();
    expect(await readFile(states('20260101'), 'utf8')).toBe('replaced by an operator');
  });
});
