import { readdir, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { createExclusive } from './create-exclusive.ts';
import { formatLockRecord, readLockFile, type LockRecord } from './lock-record.ts';
import { processLiveness, type ProcessIdentity, type ProcessProbe } from './process-identity.ts';

export type BreakOutcome = 'broken' | 'gone' | 'busy';

/**
 * Remove the lock file `path` if, and only if, it still holds `stale` (a holding whose process
 * is certainly dead). Several runs may find the same stale lock at once; exactly one may
 * remove it, and nobody may remove a newer lock taken after it. Protocol:
 *
 *   1. Claim the right to break *this* holding: create `<lock>.break-<stale token>.<k>`
 *      exclusively (createExclusive: O_EXCL semantics). Only one run gets a given name.
 *      k = 0, or one past the highest existing claim if that claimant is itself certainly dead
 *      (killed while breaking); a live claimant means someone else is breaking: 'busy'.
 *   2. Holding the only live claim for that token, re-read the lock file: if it still holds
 *      the stale token, unlink it ('broken'); otherwise it was already broken (and maybe
 *      taken again): 'gone'. Between the re-read and the unlink nobody else can change the
 *      file: taking the lock fails while it exists, its owner is dead, and every other breaker
 *      of that token lost step 1 or is dead.
 *   3. Remove the claims for that token (it can never hold the lock again: tokens are unique).
 *
 * After 'broken' or 'gone' the caller simply tries to take the lock again, competing fairly.
 */
export async function breakStaleLock(
  path: string,
  stale: LockRecord,
  me: LockRecord,
  self: ProcessIdentity,
  probe: ProcessProbe,
  /** Test seam: runs between the re-read and the unlink, where a slow or paused breaker sits. */
  hooks: { afterRecheck?: () => Promise<void> } = {},
): Promise<BreakOutcome> {
  const dir = dirname(path);
  const prefix = `${basename(path)}.break-${stale.token}.`;
  const claims = (await readdir(dir))
    .filter((name) => name.startsWith(prefix))
    .map((name) => Number(name.slice(prefix.length)))
    .filter((k) => Number.isInteger(k) && k >= 0);
  let next = 0;
  if (claims.length > 0) {
    const top = Math.max(...claims);
    const claimant = await readLockFile(join(dir, `${prefix}${top}`));
    if (claimant.kind === 'unreadable') return 'busy';
    if (claimant.kind === 'record' && processLiveness(claimant.record, self, probe).state !== 'dead') return 'busy';
    next = top + 1; // the claimant died mid-break (or just finished): claim past it
  }
  if (!(await createExclusive(join(dir, `${prefix}${next}`), formatLockRecord(me)))) return 'busy';
  try {
    const current = await readLockFile(path);
    if (current.kind !== 'record' || current.record.token !== stale.token) return 'gone';
    await hooks.afterRecheck?.();
    try {
      await unlink(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      throw error;
    }
    return 'broken';
  } finally {
    for (let k = 0; k <= next; k += 1) await rm(join(dir, `${prefix}${k}`), { force: true });
  }
}

/** Claims and temporary files of holdings that are over (see breakStaleLock, createExclusive). */
export async function sweepLockLeftovers(
  path: string,
  currentToken: string,
  olderThanMs: number,
  nowMs: number,
): Promise<void> {
  const dir = dirname(path);
  const base = basename(path);
  for (const name of await readdir(dir)) {
    if (name.startsWith(`${base}.break-`) && !name.startsWith(`${base}.break-${currentToken}.`)) {
      await rm(join(dir, name), { force: true });
    } else if (name.startsWith(`${base}.tmp-`)) {
      // A run killed between writing and linking its record; live runs remove theirs at once.
      const info = await stat(join(dir, name)).catch(() => null);
      if (info && nowMs - info.mtimeMs > olderThanMs) await rm(join(dir, name), { force: true });
    }
  }
}
