import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingSink } from '../events.ts';
import { copyFixture } from '../testing.ts';
import { JOURNAL_NAME } from './restore-journal.ts';
import { settleInterrupted } from './settle-interrupted.ts';

// A journal torn by a full disk (older versions wrote it in place): removed when nothing of
// its swap exists, so the operator is not stuck mid-incident; kept, naming what remains, when
// a workspace or a sidecar says a swap may have begun.

const TORN = '{\n  "format": "arkalia-dr/restore-journal/1",\n  "id": "4242-17000';

describe('settleInterrupted with a journal that cannot be read', () => {
  it('removes it, with a warning, when no workspace and no sidecar exist: nothing was swapped', async () => {
    const root = await copyFixture();
    await writeFile(join(root, JOURNAL_NAME), TORN);
    const sink = recordingSink();
    expect(await settleInterrupted(root, sink)).toBeNull();
    expect(await readdir(root)).not.toContain(JOURNAL_NAME);
    expect(sink.events).toContainEqual(expect.objectContaining({ kind: 'warning', code: 'RESTORE_JOURNAL_DISCARDED' }));
    expect(await settleInterrupted(root, recordingSink())).toBeNull(); // and again: nothing to do
  });

  it.each([
    [
      'a workspace beside the root',
      (root: string) => join(dirname(root), `.ark-restore-arkalia-luna-pro-4242-1700000000000`),
    ],
    ['a workspace inside the root', (root: string) => join(root, '.ark-restore-4242-1700000000000')],
    [
      'a sidecar beside a live file',
      (root: string) => join(root, 'state', '.ark-restore-4242-1700000000000.zeroia_state.toml.old'),
    ],
  ])('keeps it and names what remains when there is %s', async (_, trace) => {
    const root = await copyFixture();
    await writeFile(join(root, JOURNAL_NAME), TORN);
    const left = trace(root);
    if (left.endsWith('.old')) await writeFile(left, 'previous bytes');
    else await mkdir(left);
    const error = await settleInterrupted(root, recordingSink()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RESTORE_JOURNAL_INVALID', exitCode: 1 });
    expect((error as Error).message).toContain(left);
    expect(await readdir(root)).toContain(JOURNAL_NAME);
  });
});
