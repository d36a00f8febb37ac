import type { Fault } from '../scenario/index.ts';
import type { FaultContext, InjectedFault } from './fault.ts';
import { expandIn, faultPath } from './fault-path.ts';
import { stashAway } from './stash.ts';

type DeleteFile = Extract<Fault, { kind: 'delete-file' }>;

/** A state file (or any file) deleted. Revert puts it back only if nothing has recreated it. */
export async function injectDeleteFile(fault: DeleteFile, ctx: FaultContext): Promise<InjectedFault> {
  const path = faultPath(ctx, fault.in, fault.path);
  const stashed = await stashAway(path, ctx, 'deleted');
  return {
    kind: fault.kind,
    description: `${fault.in}:${expandIn(ctx, fault.path)} deleted`,
    ...(fault.in === 'root' ? { path: expandIn(ctx, fault.path) } : {}),
    revert: async () => void (await stashed.putBack()),
  };
}
