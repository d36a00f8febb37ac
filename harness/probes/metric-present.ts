import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { inPath, location } from '../scenario/fields.ts';
import { locate, type Location } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { defineProbe } from './probe.ts';

/** A Prometheus textfile (node_exporter format) holds this metric, optionally with these labels and at least this value. */
const schema = z.strictObject({
  probe: z.literal('metric-present'),
  in: location('work'),
  file: inPath,
  metric: z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/),
  labels: z.record(z.string(), z.string()).default({}),
  min: z.number().optional(),
});

export const metricPresentProbe = defineProbe({
  probe: 'metric-present',
  schema,
  needsStack: false,
  describe: (probe) => `metric-present ${probe.metric}`,
  run: (probe, ctx) =>
    metricPresent(
      {
        in: probe.in,
        file: probe.file,
        metric: probe.metric,
        labels: probe.labels,
        ...(probe.min === undefined ? {} : { min: probe.min }),
      },
      ctx,
    ),
});

/** One sample of a Prometheus text exposition: name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Pure: the samples of a node_exporter textfile (comments and blank lines skipped). */
export function parseTextfile(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?\s*$/.exec(line.trim());
    if (!m || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** A metrics textfile (what --metrics-file writes) holds `metric` with these labels (and at least `min`). */
export async function metricPresent(
  input: { in: Location; file: string; metric: string; labels: Record<string, string>; min?: number },
  ctx: ProbeContext,
): Promise<ProbeResult> {
  const wanted = Object.entries(input.labels);
  const probe = `metric-present ${input.metric}${wanted.length ? `{${wanted.map(([k, v]) => `${k}="${v}"`).join(',')}}` : ''}${input.min === undefined ? '' : ` ≥ ${input.min}`}`;
  const text = await readFile(locate(ctx, input.in, input.file), 'utf8').catch((e: NodeJS.ErrnoException) => e);
  if (text instanceof Error)
    return { probe, ok: false, detail: `cannot read the metrics file: ${text.code ?? text.message}` };
  const matching = parseTextfile(text).filter(
    (s) => s.name === input.metric && wanted.every(([k, v]) => s.labels[k] === v),
  );
  if (matching.length === 0) return { probe, ok: false, detail: `no sample of ${input.metric} with those labels` };
  const ok = input.min === undefined || matching.some((s) => s.value >= input.min!);
  return {
    probe,
    ok,
    detail: matching
      .slice(0, 5)
      .map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`)
      .join('; '),
  };
}
