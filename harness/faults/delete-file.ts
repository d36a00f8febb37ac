import { lstat, rm } from 'node:fs/promises';
import { z } from 'zod';
import { inPath, location } from '../scenario/fields.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';
import { expandIn, faultPath } from './fault-path.ts';
import { stashAway, type Stashed } from './stash.ts';
import { applyUntilItHolds, type HoldOptions } from './write-damage.ts';

/** A state file deleted (revert puts its bytes back if it is still missing). */
const schema = z.strictObject({ kind: z.literal('delete-file'), in: location('root'), path: inPath });

export const deleteFileFault = defineFault({
  kind: 'delete-file',
  schema,
  needsStack: false,
  inject: injectDeleteFile,
});

type DeleteFile = z.infer<typeof schema>;

/**
 * A state file (or any file) deleted. With a service running, a heartbeat rename racing the
 * deletion can recreate it: then the rewrite is removed too (the original stays stashed).
 * Revert puts the original back only if nothing has recreated it since.
 */
export async function injectDeleteFile(
  fault: DeleteFile,
  ctx: FaultContext,
  hold: Partial<HoldOptions> = {},
): Promise<InjectedFault> {
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
