import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { recordingSink } from '../events.ts';
import { FaultFs } from '../io-faults/index.ts';
import { currentProcess } from '../lock/index.ts';
import { copyFixture, tempDir } from '../testing.ts';
import { createJournal, JOURNAL_FORMAT, JOURNAL_NAME, journalPath, type RestoreJournal } from './restore-journal.ts';
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

const self = currentProcess();
const dead = { ...self, pid: self.pid + 1, bootId: 'another-boot' };

/** A journal left on disk by a restore of a fresh root; `previous` files sit in its workspace. */
async function leftJournal(
  over: Partial<RestoreJournal>,
  files: { live?: Record<string, string>; previous?: Record<string, string> } = {},
) {
  const base = await tempDir('ark-settle-');
  const root = join(base, 'root');
  const workspace = join(base, '.ark-restore-root-4242-1');
  for (const [dir, contents] of [
    [root, files.live ?? {}],
    [join(workspace, 'previous'), files.previous ?? {}],
  ] as const) {
    await mkdir(dir, { recursive: true });
    for (const [path, content] of Object.entries(contents)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
  }
  const journal: RestoreJournal = {
    format: JOURNAL_FORMAT,
    id: '4242-1',
    owner: dead,
    started_at: '2026-01-01T00:00:00.000Z',
    state: 'swapping',
    root,
    workspaces: [workspace],
    created_dirs: [],
    entries: [],
    preserve_to: join(base, 'preserved'),
    preserve_base: '',
    preserved_dir: null,
    stopped_services: ['zeroia'],
    ...over,
  };
  await createJournal(journal);
  return { base, root, workspace, journal, path: journalPath(root) };
}

const replaced = (workspace: string, path: string, now: string) => ({
  path,
  action: 'replace' as const,
  staged: join(workspace, 'staged', path),
  previous: join(workspace, 'previous', path),
  stagedSha256: sha256Buffer(now),
  previousSha256: 'old',
});

describe('settleInterrupted with a journal it can read', () => {
  it('refuses while its restore still runs, saying how sure it is', async () => {
    const alive = await leftJournal({ owner: self });
    await expect(settleInterrupted(alive.root, recordingSink(), self)).rejects.toMatchObject({
      code: 'RESTORE_IN_PROGRESS',
      message: `${alive.path}: a restore of ${alive.root} started 2026-01-01T00:00:00.000Z by pid ${self.pid} on ${self.host} is still running. Wait for it; nothing was changed.`,
    });
    const remote = await leftJournal({ owner: { ...self, host: 'elsewhere' } });
    await expect(settleInterrupted(remote.root, recordingSink(), self)).rejects.toMatchObject({
      message: `${remote.path}: a restore of ${remote.root} started 2026-01-01T00:00:00.000Z by pid ${self.pid} on elsewhere is perhaps still running (it runs on another host (elsewhere)). Wait for it; nothing was changed.`,
    });
  });

  it('rolls back a swap its dead process left, and says so', async () => {
    const s = await leftJournal({}, { live: { 'state/r': 'r = 2\n' }, previous: { 'state/r': 'r = 1\n' } });
    const journal = { ...s.journal, entries: [replaced(s.workspace, 'state/r', 'r = 2\n')] };
    await writeFile(s.path, JSON.stringify(journal));
    const sink = recordingSink();
    expect(await settleInterrupted(s.root, sink, self)).toEqual({
      outcome: 'rolled-back',
      journal: s.path,
      files: 1,
      stoppedServices: ['zeroia'],
      preservedAt: null,
    });
    expect(sink.events).toEqual([
      {
        kind: 'restore-settled',
        journal: s.path,
        outcome: 'rolled-back',
        files: 1,
        message: `an interrupted restore (pid ${dead.pid}, 2026-01-01T00:00:00.000Z) was rolled back: 1 file(s) put back exactly as they were before it`,
      },
    ]);
    expect(await readFile(join(s.root, 'state/r'), 'utf8')).toBe('r = 1\n');
  });

  it('a rollback that cannot finish keeps the journal and names each file', async () => {
    const s = await leftJournal({}, { live: { 'state/q': 'q = 2\n', 'state/r': 'r = 2\n' } });
    const entries = [replaced(s.workspace, 'state/q', 'q = 2\n'), replaced(s.workspace, 'state/r', 'r = 2\n')];
    await writeFile(s.path, JSON.stringify({ ...s.journal, entries }));
    const missing = (path: string) => `${path}: its previous copy (${join(s.workspace, 'previous', path)}) is missing`;
    const problems = [missing('state/r'), missing('state/q')];
    await expect(settleInterrupted(s.root, recordingSink(), self)).rejects.toMatchObject({
      code: 'RESTORE_ROLLBACK_FAILED',
      message: `an interrupted restore (${s.path}) could not be rolled back entirely:\n  ${problems.join('\n  ')}\nThe journal is kept; fix the cause and run again with --resume.`,
      details: { journal: s.path, rollbackFailed: problems },
    });
    expect(await readdir(s.root)).toContain(JOURNAL_NAME);
  });

  it('finishes a committed swap: the previous files are preserved, and says where', async () => {
    const s = await leftJournal({ state: 'committed' }, { previous: { 'state/r': 'r = 1\n' } });
    const journal = {
      ...s.journal,
      state: 'committed' as const,
      entries: [replaced(s.workspace, 'state/r', 'r = 2\n')],
    };
    await writeFile(s.path, JSON.stringify(journal));
    const sink = recordingSink();
    const settled = await settleInterrupted(s.root, sink, self);
    expect(settled).toEqual({
      outcome: 'completed',
      journal: s.path,
      files: 1,
      stoppedServices: ['zeroia'],
      preservedAt: s.journal.preserve_to,
    });
    expect(sink.events).toEqual([
      {
        kind: 'restore-settled',
        journal: s.path,
        outcome: 'completed',
        files: 1,
        message: `an interrupted restore (pid ${dead.pid}, 2026-01-01T00:00:00.000Z) had committed: its 1 file change(s) stand; previous files preserved in ${s.journal.preserve_to}`,
      },
    ]);
  });

  it('a committed swap that replaced nothing: nothing to preserve', async () => {
    const s = await leftJournal({ state: 'committed' });
    const sink = recordingSink();
    expect(await settleInterrupted(s.root, sink, self)).toMatchObject({ outcome: 'completed', preservedAt: null });
    expect(sink.events).toMatchObject([
      {
        message: `an interrupted restore (pid ${dead.pid}, 2026-01-01T00:00:00.000Z) had committed: its 0 file change(s) stand`,
      },
    ]);
  });

  it('a journal that cannot be opened at all is not discarded', async () => {
    const base = await tempDir('ark-settle-');
    await mkdir(join(base, JOURNAL_NAME));
    await expect(settleInterrupted(base, recordingSink(), self)).rejects.toMatchObject({ code: 'EISDIR' });
  });
});

describe('settleInterrupted with a torn journal: what it says', () => {
  it('names every trace, sorted, in the message and the details', async () => {
    const root = join(await tempDir('ark-settle-'), '+r');
    const beside = join(dirname(root), '.ark-restore-+r-4242-1');
    const sidecar = join(root, 'state', '.ark-restore-4242-1.f.old');
    await mkdir(join(root, 'state'), { recursive: true });
    await mkdir(beside);
    await writeFile(sidecar, 'previous bytes');
    await writeFile(join(root, JOURNAL_NAME), TORN);
    const error = await settleInterrupted(root, recordingSink()).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'RESTORE_JOURNAL_INVALID',
      details: { journal: join(root, JOURNAL_NAME), traces: [sidecar, beside] },
    });
    expect((error as Error).message).toContain(
      `\nWhat its swap left is still there: ${sidecar}, ${beside}. The previous live files are in the "previous" folder of a workspace, or in the .old sidecars; put back what the restore changed, then remove these and the journal.`,
    );
  });

  it('keeps it when the folder around the root cannot be listed: unable to look is not "nothing there"', async () => {
    const root = join(await tempDir('ark-settle-'), 'root');
    await mkdir(root);
    await writeFile(join(root, JOURNAL_NAME), TORN);
    await FaultFs.ready();
    const shim = new FaultFs([dirname(root)]).install();
    try {
      shim.arm(null); // count the calls once: the listing of the folder around the root is one of them
      expect(await settleInterrupted(root, recordingSink())).toBeNull();
      const listing = shim.calls.find((c) => c.op === 'readdir' && c.path === dirname(root));
      expect(listing).toBeDefined();
      await writeFile(join(root, JOURNAL_NAME), TORN);
      shim.arm({ code: 'EIO', nth: listing!.index });
      const error = await settleInterrupted(root, recordingSink()).catch((e: unknown) => e);
      shim.disarm();
      expect(error).toMatchObject({ code: 'RESTORE_JOURNAL_INVALID', details: { journal: join(root, JOURNAL_NAME) } });
      expect((error as Error).message).toMatch(
        /Whether its swap left files cannot be told \(.*I\/O error.*\), so the journal was kept: once that folder can be read, run the same command again\.$/,
      );
      expect(await readdir(root)).toContain(JOURNAL_NAME);
    } finally {
      shim.uninstall();
    }
  });

  it('says why it removed one', async () => {
    const root = join(await tempDir('ark-settle-'), 'root');
    await mkdir(root);
    await writeFile(join(root, JOURNAL_NAME), TORN);
    const sink = recordingSink();
    expect(await settleInterrupted(root, sink)).toBeNull();
    expect(sink.events).toEqual([
      {
        kind: 'warning',
        code: 'RESTORE_JOURNAL_DISCARDED',
        message: `${join(root, JOURNAL_NAME)} could not be read, and nothing of its swap exists (no workspace, no sidecar): the interrupted restore never changed a live file. The journal was removed.`,
      },
    ]);
  });
});
