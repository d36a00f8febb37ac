// faults: the fault catalogue. Each fault has inject() and an idempotent revert() that the
// runner calls in a finally, even when the drill fails.
import type { Fault } from '../scenario/index.ts';
import { injectChaosFault } from './chaos-faults.ts';
import { injectCorruptArchive } from './corrupt-archive.ts';
import { injectCorruptToml } from './corrupt-toml.ts';
import { injectHidePath } from './hide-path.ts';
import type { FaultContext, InjectedFault } from './fault.ts';

export { corruptBytes } from './corrupt-toml.ts';
export { parseHunks, replayConflict } from './git-conflict.ts';
export type { FaultContext, InjectedFault } from './fault.ts';

export async function injectFault(fault: Fault, ctx: FaultContext): Promise<InjectedFault> {
  switch (fault.kind) {
    case 'corrupt-toml':
      return injectCorruptToml(fault, ctx);
    case 'hide-path':
      return injectHidePath(fault, ctx);
    case 'corrupt-archive':
      return injectCorruptArchive(fault, ctx);
    default:
      return injectChaosFault(fault, ctx);
  }
}
