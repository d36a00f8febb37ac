// faults: the fault catalogue, one file per kind. A fault breaks what the real failure would
// (state bytes, a disk, a key, a process, the offsite); inject() says what it did and returns an
// idempotent revert() that the runner calls in a finally, even when the drill fails, and that
// never undoes a recovery's work. A fault that cannot be injected throws: the drill aborts.
// Adding a fault kind: write harness/faults/<kind>.ts exporting its defineFault({ kind, schema,
// needsStack, inject }) (fault.ts), with its test, and add it to FAULTS below; the scenario
// language, the stack check and injectFault take it from there.
import { z } from 'zod';
import { corruptArchiveFault } from './corrupt-archive.ts';
import { corruptConfigFault } from './corrupt-config.ts';
import { corruptTomlFault } from './corrupt-toml.ts';
import { damagedWhileStoppedFault } from './damaged-while-stopped.ts';
import { deleteBackupFault } from './delete-backup.ts';
import { deleteFileFault } from './delete-file.ts';
import { diskFullFault } from './disk-full.ts';
import type { FaultContext, FaultDefinition, InjectedFault } from './fault.ts';
import { flakyOffsiteFault } from './flaky-offsite.ts';
import { gitConflictFault } from './git-conflict.ts';
import { hidePathFault } from './hide-path.ts';
import { killScriptFault } from './kill-script.ts';
import { killServiceFault } from './kill-service.ts';
import { loseDiskFault } from './lose-disk.ts';
import { offsiteUnreachableFault } from './offsite-unreachable.ts';
import { staleLockFault } from './stale-lock.ts';
import { wrongKeyFault } from './wrong-key.ts';

export { corruptBytes } from './corrupt-toml.ts';
export { parseHunks, replayConflict } from './git-conflict.ts';
export { defineFault, type FaultContext, type FaultDefinition, type InjectedFault } from './fault.ts';

/** Every fault kind. The order is the one a scenario's error message lists the kinds in. */
export const FAULTS = [
  corruptTomlFault,
  hidePathFault,
  corruptArchiveFault,
  deleteFileFault,
  loseDiskFault,
  diskFullFault,
  killServiceFault,
  killScriptFault,
  deleteBackupFault,
  wrongKeyFault,
  offsiteUnreachableFault,
  flakyOffsiteFault,
  corruptConfigFault,
  damagedWhileStoppedFault,
  gitConflictFault,
  staleLockFault,
] as const;

// The schemas as a tuple (not an array), so that the union knows each kind's fields.
type Schemas<T extends readonly FaultDefinition[]> = { -readonly [I in keyof T]: T[I]['schema'] };

/** A fault of a scenario: the schema of its `kind`. */
export const faultSchema = z.discriminatedUnion('kind', FAULTS.map((f) => f.schema) as Schemas<typeof FAULTS>);

export type Fault = z.infer<typeof faultSchema>;

/** The kinds that act on the containers: refused in a `stack = false` scenario. */
export const FAULTS_NEEDING_STACK: ReadonlySet<string> = new Set(FAULTS.filter((f) => f.needsStack).map((f) => f.kind));

const BY_KIND: ReadonlyMap<string, FaultDefinition> = new Map(FAULTS.map((f) => [f.kind, f]));

export async function injectFault(fault: Fault, ctx: FaultContext): Promise<InjectedFault> {
  // faultSchema chose the definition's schema by this same `kind`: the fault has exactly its fields.
  return BY_KIND.get(fault.kind)!.inject(fault, ctx);
}
