import { ArkError, EXIT, IntegrityError, isArkError, NotFoundError } from '../errors.ts';
import { isBackupDefect } from '../restore/index.ts';
import type { OffsiteSet, SetProblem } from './plan-offsite-sets.ts';

// Which offsite sets a disk recovery tries, and what it says when they fail: newest first (or
// only the dated one); a set missing or damaged on the offsite is rejected, named with why, and
// the next older one tried; when none is left, every rejection is listed.

/** A set that could not be used, and why. */
export interface SetRejection {
  date: string;
  code: string;
  name: string | null;
  reason: string;
}

/** Failures that are one set's fault (missing or damaged there): an older set may do. */
const SET_DEFECTS = new Set(['OFFSITE_OBJECT_MISSING', 'OFFSITE_ARCHIVE_MISSING', 'REMOTE_NOT_FOUND']);

/** The sets to try, newest first: all, or only the one of `date`. NotFoundError naming what the offsite holds otherwise. */
export function chooseSets(sets: OffsiteSet[], date: string | undefined, target: string): OffsiteSet[] {
  if (sets.length === 0)
    throw new NotFoundError(
      'NO_OFFSITE_BACKUP',
      `${target} holds no backup set (no arkalia_states_<YYYYMMDD>.tar.gz.gpg or other policy archive): is --from the folder remote-sync writes to?`,
    );
  if (date === undefined) return sets;
  const match = sets.filter((s) => s.date === date);
  if (match.length === 0)
    throw new NotFoundError(
      'NO_OFFSITE_BACKUP_FOR_DATE',
      `${target} holds no backup set of ${date}; it holds: ${sets.map((s) => s.date).join(', ')}`,
    );
  return match;
}

/** The error of a set the offsite index already found defective. */
export function problemError(p: SetProblem): ArkError {
  const options = { details: { name: p.name } };
  return p.exitCode === EXIT.integrity
    ? new IntegrityError(p.code, p.reason, options)
    : new NotFoundError(p.code, p.reason, options);
}

/** A failure that is this set's fault, so the next older one may be tried. */
export function isSetDefect(error: unknown): error is ArkError {
  return isBackupDefect(error) || (isArkError(error) && SET_DEFECTS.has(error.code));
}

/** The error, with the newer sets rejected before it in its details. */
export function withRejections(error: unknown, rejected: readonly SetRejection[]): unknown {
  if (isArkError(error) && rejected.length > 0) Object.assign(error.details, { rejected });
  return error;
}

/** No set could be used: the one error, or all of them, newest first (integrity, exit 3, when any was). */
export function allRejected(errors: ArkError[], rejected: readonly SetRejection[]): ArkError {
  if (errors.length === 1) return withRejections(errors[0], rejected) as ArkError;
  const integrity = errors.some((e) => e.exitCode === EXIT.integrity);
  return new ArkError(
    'NO_VALID_OFFSITE_BACKUP',
    `no offsite backup set can be restored; rejected, newest first:\n${rejected.map((r) => `  ${r.date} (${r.code}): ${r.reason.replace(/\n\s*/g, ' ')}`).join('\n')}\nNothing was restored: the root is as it was.`,
    { exitCode: integrity ? EXIT.integrity : EXIT.failed, details: { rejected } },
  );
}
