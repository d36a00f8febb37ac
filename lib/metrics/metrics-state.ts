import { readFile, rename } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '../state/index.ts';

// The accumulated metrics, kept beside the textfile (<file>.state.json) in the JSON form
// prom-client's registry.getMetricsAsJSON() gives and AggregatorRegistry.aggregate() takes.
// The textfile is rendered from it; it is the state, not the textfile, so no exposition
// parser is needed and counters keep their exact values.

export const METRICS_STATE_FORMAT = 'arkalia-dr-metrics/1';

const labelValue = z.union([z.string(), z.number()]);

const valueSchema = z.strictObject({
  value: z.number(),
  labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), labelValue),
  metricName: z
    .string()
    .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/)
    .optional(),
});

export const familySchema = z.object({
  name: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/),
  help: z.string(),
  type: z.enum(['counter', 'gauge', 'histogram', 'summary']),
  // 'omit' is left out on purpose: a family that aggregates to nothing would vanish.
  aggregator: z.enum(['sum', 'first', 'min', 'max', 'average']),
  values: z.array(valueSchema),
});

const stateSchema = z.strictObject({
  format: z.literal(METRICS_STATE_FORMAT),
  updated_at: z.string(),
  families: z.array(familySchema),
});

export type MetricFamily = z.infer<typeof familySchema>;

export interface LoadedState {
  families: MetricFamily[];
  /** Why the state was set aside (unreadable JSON, unknown format), or null. */
  problem: string | null;
}

/**
 * The accumulated families, or none when the state does not exist yet. A state that does not
 * parse is renamed to <state>.corrupt-<time> (kept for a look) and counting starts again:
 * Prometheus reads the drop as a counter reset, which rate() and increase() handle.
 */
export async function readMetricsState(path: string, now: Date): Promise<LoadedState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { families: [], problem: null };
    throw error;
  }
  let reason: string;
  try {
    const parsed = stateSchema.safeParse(JSON.parse(text));
    if (parsed.success) return { families: parsed.data.families, problem: null };
    reason = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`)
      .slice(0, 3)
      .join('; ');
  } catch (error) {
    reason = `not JSON: ${(error as Error).message}`;
  }
  const aside = `${path}.corrupt-${now.toISOString().replace(/[-:.]/g, '')}`;
  await rename(path, aside);
  return { families: [], problem: `${path} could not be used (${reason}); moved to ${aside}, counting starts again` };
}

export async function writeMetricsState(path: string, families: readonly MetricFamily[], now: Date): Promise<void> {
  const state = { format: METRICS_STATE_FORMAT, updated_at: now.toISOString(), families };
  await writeFileAtomic(path, `${JSON.stringify(state, null, 1)}\n`);
}
