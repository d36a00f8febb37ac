import { describe, expect, it } from 'vitest';
import { ArkError, IntegrityError, IoError, NotFoundError } from '../errors.ts';
import { recordingSink } from '../events.ts';
import { errnoError } from '../io-faults/index.ts';
import type { BackupCandidate } from './backup-candidate.ts';
import { chooseBackup, isBackupDefect } from './choose-backup.ts';
import type { StagedBackup } from './stage-backup.ts';

// The fallback rules, in-process: which failures pass over to the next older backup, which
// stop the restore, what an operator-named backup does, and what is said when none will do.

const candidate = (label: string): BackupCandidate =>
  ({ label, date: label.slice(-8), dir: `/b/daily/${label}` }) as unknown as BackupCandidate;
const staged = (c: BackupCandidate) => ({ candidate: c }) as unknown as StagedBackup;

/** stage() that fails for the labels given, with the error given, and stages the others. */
function stager(failures: Record<string, Error>) {
  const tried: string[] = [];
  const stage = async (c: BackupCandidate) => {
    tried.push(c.label);
    const failure = failures[c.label];
    if (failure) throw failure;
    return staged(c);
  };
  return { stage, tried };
}

const mismatch = (label: string) => new IntegrityError('CHECKSUM_MISMATCH', `${label}: sha256 differs`);
const [newest, middle, oldest] = ['arkalia_20261126', 'arkalia_20261125', 'arkalia_20261124'].map(candidate) as [
  BackupCandidate,
  BackupCandidate,
  BackupCandidate,
];

describe('chooseBackup', () => {
  it('takes the newest that stages, and says it chose the newest', async () => {
    const sink = recordingSink();
    const { stage, tried } = stager({});
    const chosen = await chooseBackup({ candidates: [newest, middle], explicit: false, stage, sink });
    expect(chosen.staged.candidate).toBe(newest);
    expect(chosen.rejected).toEqual([]);
    expect(tried).toEqual(['arkalia_20261126']);
    expect(sink.events).toEqual([{ kind: 'backup-selected', dir: newest.dir, date: newest.date, source: 'newest' }]);
  });

  it('falls back newest first past every backup defect, naming each rejection and why', async () => {
    const sink = recordingSink();
    const { stage, tried } = stager({
      arkalia_20261126: mismatch('arkalia_20261126'),
      arkalia_20261125: new NotFoundError('MODULE_NOT_IN_BACKUP', 'no zeroia state in it'),
    });
    const chosen = await chooseBackup({ candidates: [newest, middle, oldest], explicit: false, stage, sink });
    expect(chosen.staged.candidate).toBe(oldest);
    expect(tried).toEqual(['arkalia_20261126', 'arkalia_20261125', 'arkalia_20261124']);
    expect(chosen.rejected).toEqual([
      {
        backup: 'arkalia_20261126',
        dir: newest.dir,
        date: newest.date,
        code: 'CHECKSUM_MISMATCH',
        reason: 'arkalia_20261126: sha256 differs',
      },
      {
        backup: 'arkalia_20261125',
        dir: middle.dir,
        date: middle.date,
        code: 'MODULE_NOT_IN_BACKUP',
        reason: 'no zeroia state in it',
      },
    ]);
    expect(
      sink.events.filter((e) => e.kind === 'backup-selected').map((e) => (e as { source: string }).source),
    ).toEqual([
      'newest',
      'fallback: the newest that passes verification (1 newer rejected)',
      'fallback: the newest that passes verification (2 newer rejected)',
    ]);
    expect(sink.events.filter((e) => e.kind === 'backup-rejected')).toHaveLength(2);
  });

  it("a failure that is not the backup's (a full disk, an I/O error, anything unexpected) stops at once: no older backup is tried", async () => {
    for (const failure of [
      new IoError(errnoError('ENOSPC', 'write', '/srv/x'), 'Nothing was changed.'),
      new ArkError('LOCK_LOST', 'the lock went'),
      new Error('boom'),
    ]) {
      const { stage, tried } = stager({ arkalia_20261126: failure });
      await expect(chooseBackup({ candidates: [newest, middle], explicit: false, stage, sink: () => {} })).rejects.toBe(
        failure,
      );
      expect(tried).toEqual(['arkalia_20261126']);
    }
  });

  it('a disk failure after earlier rejections carries them in its details', async () => {
    const io = new IoError(errnoError('EIO', 'read', '/b/x'), 'Nothing was changed.');
    const { stage } = stager({ arkalia_20261126: mismatch('arkalia_20261126'), arkalia_20261125: io });
    await expect(
      chooseBackup({ candidates: [newest, middle, oldest], explicit: false, stage, sink: () => {} }),
    ).rejects.toBe(io);
    expect(io.details.rejected).toEqual([
      expect.objectContaining({ backup: 'arkalia_20261126', code: 'CHECKSUM_MISMATCH' }),
    ]);
  });

  it('a backup the operator named is the only one: its defect is the error, never replaced by another', async () => {
    const defect = mismatch('arkalia_20261126');
    const sink = recordingSink();
    const { stage, tried } = stager({ arkalia_20261126: defect });
    await expect(chooseBackup({ candidates: [newest, middle], explicit: true, stage, sink })).rejects.toBe(defect);
    expect(tried).toEqual(['arkalia_20261126']);
    expect(sink.events).toEqual([
      { kind: 'backup-selected', dir: newest.dir, date: newest.date, source: 'requested date' },
    ]);
  });

  it('when every backup fails: one failure is itself the error; several are NO_VALID_BACKUP listing each, exit 3 if any is an integrity failure', async () => {
    const only = mismatch('arkalia_20261126');
    await expect(
      chooseBackup({
        candidates: [newest],
        explicit: false,
        stage: stager({ arkalia_20261126: only }).stage,
        sink: () => {},
      }),
    ).rejects.toBe(only);

    const error = await chooseBackup({
      candidates: [newest, middle],
      explicit: false,
      stage: stager({
        arkalia_20261126: mismatch('arkalia_20261126'),
        arkalia_20261125: new NotFoundError('STATES_ARCHIVE_MISSING', 'the backup has no\nstates archive'),
      }).stage,
      sink: () => {},
    }).then(
      () => null as never as ArkError,
      (e: unknown) => e as ArkError,
    );
    expect(error).toMatchObject({ code: 'NO_VALID_BACKUP', exitCode: 3 });
    expect(error.message).toBe(
      'no backup passes verification; rejected, newest first:\n' +
        '  arkalia_20261126 (CHECKSUM_MISMATCH): arkalia_20261126: sha256 differs\n' +
        '  arkalia_20261125 (STATES_ARCHIVE_MISSING): the backup has no states archive\n' +
        'Nothing was changed. Recover a good copy (offsite) or inspect the rejected backups.',
    );
    expect((error.details.rejected as unknown[]).length).toBe(2);

    const missing = await chooseBackup({
      candidates: [newest, middle],
      explicit: false,
      stage: stager({
        arkalia_20261126: new NotFoundError('ARCHIVE_MISSING', 'no configs archive'),
        arkalia_20261125: new NotFoundError('NOTHING_IN_BACKUP', 'nothing in scope'),
      }).stage,
      sink: () => {},
    }).then(
      () => null as never as ArkError,
      (e: unknown) => e as ArkError,
    );
    expect(missing).toMatchObject({ code: 'NO_VALID_BACKUP', exitCode: 1 });
  });

  it('no candidate at all is NO_BACKUP (exit 1)', async () => {
    await expect(
      chooseBackup({ candidates: [], explicit: false, stage: stager({}).stage, sink: () => {} }),
    ).rejects.toMatchObject({ code: 'NO_BACKUP', exitCode: 1 });
  });

  it('isBackupDefect: integrity failures and the missing-content codes, nothing else', () => {
    expect(isBackupDefect(mismatch('x'))).toBe(true);
    for (const code of ['STATES_ARCHIVE_MISSING', 'ARCHIVE_MISSING', 'MODULE_NOT_IN_BACKUP', 'NOTHING_IN_BACKUP'])
      expect(isBackupDefect(new NotFoundError(code, 'x'))).toBe(true);
    expect(isBackupDefect(new NotFoundError('NO_BACKUP', 'x'))).toBe(false);
    expect(isBackupDefect(new IoError(errnoError('ENOSPC', 'write', '/x'), ''))).toBe(false);
    expect(isBackupDefect(new Error('x'))).toBe(false);
  });

  it('says NO_BACKUP in words, and names a candidate without a folder or date by its label', async () => {
    await expect(
      chooseBackup({ candidates: [], explicit: false, stage: stager({}).stage, sink: () => {} }),
    ).rejects.toThrow(/^no backup to restore from$/);
    const downloaded = { label: 'arkalia_states_20261125.tar.gz', date: null, dir: null } as unknown as BackupCandidate;
    const sink = recordingSink();
    await chooseBackup({ candidates: [downloaded], explicit: true, stage: stager({}).stage, sink });
    expect(sink.events).toEqual([
      { kind: 'backup-selected', dir: 'arkalia_states_20261125.tar.gz', date: '', source: 'requested date' },
    ]);
  });

  it('a stopping failure carries the rejections only when there were some, and any error passes through as it is', async () => {
    const io = new IoError(errnoError('EIO', 'read', '/b/x'), 'Nothing was changed.');
    await expect(
      chooseBackup({
        candidates: [newest],
        explicit: false,
        stage: stager({ arkalia_20261126: io }).stage,
        sink: () => {},
      }),
    ).rejects.toBe(io);
    expect(io.details).not.toHaveProperty('rejected');
    const boom = new Error('boom');
    const { stage } = stager({ arkalia_20261126: mismatch('arkalia_20261126'), arkalia_20261125: boom });
    await expect(chooseBackup({ candidates: [newest, middle], explicit: false, stage, sink: () => {} })).rejects.toBe(
      boom,
    );
  });
});
