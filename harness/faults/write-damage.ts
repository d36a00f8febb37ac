import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../lib/state/index.ts';

export interface HoldOptions {
  /** A service may be rewriting the file: check the fault held, and apply it again if not. */
  serviceRunning: boolean;
  settleMs?: number;
  attempts?: number;
}

/**
 * Apply a fault to a file a running service may be rewriting, until it holds. The service
 * re-reads the file before its rename, but a change of ours landing between its check and its
 * rename is lost (the same race a real concurrent writer has: damage overwritten, a deleted
 * file recreated), and a fault that silently did not happen would fail the drill's detect
 * phase for the wrong reason. So with a service running, check after a moment that the fault
 * is still there, and apply it again if it was undone. `again` is the re-application (the
 * first one may differ: a deletion stashes the original, a repeat only removes the rewrite).
 */
export async function applyUntilItHolds(
  first: () => Promise<void>,
  again: () => Promise<void>,
  holds: () => Promise<boolean>,
  options: HoldOptions,
): Promise<void> {
  const attempts = options.serviceRunning ? (options.attempts ?? 5) : 1;
  for (let i = 0; i < attempts; i += 1) {
    await (i === 0 ? first() : again());
    if (!options.serviceRunning) return;
    await new Promise((r) => setTimeout(r, options.settleMs ?? 800));
    if (await holds()) return;
  }
}

/** Write damaged bytes over a file a running service may be rewriting (see applyUntilItHolds). */
export async function writeDamage(path: string, damaged: Buffer, options: HoldOptions): Promise<void> {
  const write = () => writeFileAtomic(path, damaged);
  await applyUntilItHolds(
    write,
    write,
    async () => (await readFile(path).catch(() => null))?.equals(damaged) === true,
    options,
  );
}
