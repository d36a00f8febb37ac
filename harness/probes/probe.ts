import type { z } from 'zod';
import type { ProbeContext, ProbeResult } from './probe-context.ts';

/** A probe's fields in the scenario language: a z.strictObject whose `probe` is the literal K. */
export type ProbeSchema<K extends string = string> = z.ZodObject<{ probe: z.ZodLiteral<K> }, z.core.$strict>;

/** One probe kind: what a scenario writes for it, how the journal names it, and how it runs. */
export interface ProbeDefinition<K extends string = string, S extends ProbeSchema<K> = ProbeSchema<K>> {
  probe: K;
  schema: S;
  /** It talks to the containers: refused in a `stack = false` scenario. */
  needsStack: boolean;
  /** Its name in the journal when it cannot run (a probe that runs names itself in its result). */
  describe(probe: z.output<S>): string;
  /** Pass or fail, with a detail. May throw: runProbe turns that into a failure with the reason. */
  run(probe: z.output<S>, ctx: ProbeContext): Promise<ProbeResult>;
}

/** Typed by its own schema, so that `describe` and `run` get exactly its fields (and `probe` must match the schema's literal). */
export function defineProbe<K extends string, S extends ProbeSchema<K>>(
  definition: ProbeDefinition<K, S>,
): ProbeDefinition<K, S> {
  return definition;
}
