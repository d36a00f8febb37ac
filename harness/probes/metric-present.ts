import { readFile } from 'node:fs/promises';
import { locate, type Location } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';

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
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** A metrics textfile (what --metrics-file writes) holds `metric` with these labels (and at least `min`). */
export async function metricPresent(input: { in: Location; file: string; metric: string; labels: Record<string, string>; min?: number }, ctx: ProbeContext): Promise<ProbeResult> {
  const wanted = Object.entries(input.labels);
  const probe = `metric-present ${input.metric}${wanted.length ? `{${wanted.map(([k, v]) => `${k}="${v}"`).join(',')}}` : ''}${input.min === undefined ? '' : ` ≥ ${input.min}`}`;
  const text = await readFile(locate(ctx, input.in, input.file), 'utf8').catch((e: NodeJS.ErrnoException) => e);
  if (text instanceof Error) return { probe, ok: false, detail: `cannot read the metrics file: ${text.code ?? text.message}` };
  const matching = parseTextfile(text).filter((s) => s.name === input.metric && wanted.every(([k, v]) => s.labels[k] === v));
  if (matching.length === 0) return { probe, ok: false, detail: `no sample of ${input.metric} with those labels` };
  const ok = input.min === undefined || matching.some((s) => s.value >= input.min!);
  return { probe, ok, detail: matching.slice(0, 5).map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.value}`).join('; ') };
}
