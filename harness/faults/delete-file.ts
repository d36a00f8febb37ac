import { lstat, rm } from 'node:fs/promises';
import type { Fault } from '../scenario/index.ts';
import type { FaultContext, InjectedFault } from './fault.ts';
import { expandIn, faultPath } from './fault-path.ts';
import { stashAway, type Stashed } from './stash.ts';
import { applyUntilItHolds, type HoldOptions } from './write-damage.ts';

type DeleteFile = Extract<Fault, { kind: 'delete-file' }>;

/**
 * A state file (or any file) deleted. With a service running, a heartbeat rename racing the
 * deletion can recreate it: then the rewrite is removed too (the original stays stashed).
 * Revert puts the original back only if nothing has recreated it since.
 */
export async function injectDeleteFile(fault: DeleteFile, ctx: FaultContext, hold: Partial<HoldOptions> = {}): Promise<InjectedFault> {
  const path = faultPath(ctx, fault.in, fault.path);
  let stashed: Stashed | null = null;
  await applyUntilItHolds(
    async () => void (stashed = await stashAway(path, ctx, 'deleted')),
    () => rm(path, { force: true }),
    async () => (await lstat(path).catch(() => null)) === null,
    { serviceRunning: ctx.stack !== null, ...hold },
  );
  return {
    kind: fault.kind,
    description: `${fault.in}:${expandIn(ctx, fault.path)} deleted`,
    ...(fault.in === 'root' ? { path: expandIn(ctx, fault.path) } : {}),
    revert: async () => void (await stashed?.putBack()),
  };
}
