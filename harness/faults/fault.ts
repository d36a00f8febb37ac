import type { z } from 'zod';
import type { ArkaliaStack } from '../stack/index.ts';

export interface FaultContext {
  root: string;
  backupDir: string;
  stack: ArkaliaStack | null;
  /** The drill's workspace ({work}): keys, a local offsite folder, and where faults stash what they take away. */
  work?: string;
  /** Expands scenario placeholders ({work}, {date-40d}, ...) in fault fields. */
  expand?: (text: string) => string;
}

/** A fault that has been injected: what it did, and how to undo it (idempotent). */
export interface InjectedFault {
  kind: string;
  description: string;
  /** The file it damaged, relative to the root, and the exact bytes it left there. */
  path?: string;
  damaged?: Buffer;
  /** Environment the operator scripts run with from now on (e.g. the S3 endpoint of a flaky offsite). */
  env?: Record<string, string>;
  /** Environment for probes that must reach the same place without the fault (the S3 server behind a failing proxy). */
  probeEnv?: Record<string, string>;
  /** Placeholder values this fault provides ({offsite_url}). */
  vars?: Record<string, string>;
  revert(): Promise<void>;
}

/** A fault's fields in the scenario language: a z.strictObject whose `kind` is the literal K. */
export type FaultSchema<K extends string = string> = z.ZodObject<{ kind: z.ZodLiteral<K> }, z.core.$strict>;

/** One fault kind: what a scenario writes for it, and how it is injected. */
export interface FaultDefinition<K extends string = string, S extends FaultSchema<K> = FaultSchema<K>> {
  kind: K;
  schema: S;
  /** It acts on the containers: refused in a `stack = false` scenario. */
  needsStack: boolean;
  /** Inject the fault (its fields as the schema parsed them, defaults filled in); the result carries its revert. */
  inject(fault: z.output<S>, ctx: FaultContext): Promise<InjectedFault>;
}

/** Typed by its own schema, so that `inject` gets exactly its fields (and `kind` must match the schema's literal). */
export function defineFault<K extends string, S extends FaultSchema<K>>(
  definition: FaultDefinition<K, S>,
): FaultDefinition<K, S> {
  return definition;
}
