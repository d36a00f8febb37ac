import { createRequire } from 'node:module';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { BACKUP_METRICS, type MetricKey, type MetricSpec } from './backup-metrics.ts';
import type { MetricFamily } from './metrics-state.ts';
import type { MetricsUpdate } from './metrics-update.ts';

/**
 * prom-client (~90 ms to load) is loaded the first time a metric is built: a backup that
 * writes no metrics file never pays for it. It is CommonJS, so a synchronous require works.
 */
let promClient: typeof import('prom-client') | undefined;
const prom = (): typeof import('prom-client') =>
  (promClient ??= createRequire(import.meta.url)('prom-client') as typeof import('prom-client'));

// prom-client does the metric work: one run's changes go through real Gauge/Counter/Histogram
// objects (bucketing, label checks), runs are merged with AggregatorRegistry.aggregate (its
// documented way to combine registries: counters and histograms summed, gauges "first", i.e.
// this run's value wins), and the merged families are rendered by a Registry.

/** This run's changes as families, every family of BACKUP_METRICS present (HELP/TYPE even without samples). */
export async function familiesOf(update: MetricsUpdate): Promise<MetricFamily[]> {
  const registry = new (prom().Registry)();
  const make = (spec: MetricSpec) => {
    const config = { name: spec.name, help: spec.help, labelNames: [...spec.labelNames], registers: [registry] };
    if (spec.kind === 'counter') return new (prom().Counter)(config);
    if (spec.kind === 'histogram') return new (prom().Histogram)({ ...config, buckets: [...(spec.buckets ?? [])] });
    return new (prom().Gauge)({ ...config, aggregator: 'first' });
  };
  const metrics = new Map<MetricKey, Counter | Gauge | Histogram>(
    Object.entries(BACKUP_METRICS).map(([key, spec]) => [key as MetricKey, make(spec)]),
  );
  const touched = new Set<string>();
  for (const change of update.changes) {
    const metric = metrics.get(change.metric)!;
    touched.add(seriesKey(BACKUP_METRICS[change.metric].name, change.labels));
    if (change.op === 'set') (metric as Gauge).set(change.labels, change.value);
    else if (change.op === 'inc') (metric as Counter).inc(change.labels, change.value);
    else (metric as Histogram).observe(change.labels, change.value);
  }
  const families = (await registry.getMetricsAsJSON()) as unknown as MetricFamily[];
  // prom-client starts label-less gauges and counters at 0: keep only the series this run touched,
  // or a run that did not verify anything would "set" the last verification time to 1970.
  return families.map((family) => ({
    ...family,
    values: family.values.filter((v) => touched.has(seriesKey(family.name, v.labels))),
  }));
}

export interface MergeResult {
  families: MetricFamily[];
  warnings: { code: string; message: string }[];
}

/**
 * The accumulated families plus this run's: counters and histograms add up (monotonic across
 * runs), gauges take this run's value where it set one. Families of other writers are kept as
 * they are. A previous family of ours whose type or histogram buckets differ from today's
 * definition is dropped (a reset Prometheus handles), with a warning.
 */
export async function mergeFamilies(
  previous: readonly MetricFamily[],
  run: readonly MetricFamily[],
): Promise<MergeResult> {
  const warnings: MergeResult['warnings'] = [];
  const specs = new Map<string, MetricSpec>(Object.values(BACKUP_METRICS).map((spec) => [spec.name, spec]));
  const kept = previous.filter((family) => {
    const spec = specs.get(family.name);
    if (!spec) return true;
    const problem =
      family.type !== spec.kind
        ? `it was a ${family.type}, it is now a ${spec.kind}`
        : spec.kind === 'histogram' && !sameBuckets(family, spec.buckets ?? [])
          ? 'its buckets changed'
          : null;
    if (problem)
      warnings.push({
        code: 'METRICS_RESET',
        message: `${family.name}: ${problem}; its accumulated values start again from this run`,
      });
    return problem === null;
  });
  // Run first: the "first" aggregator (gauges) then picks this run's value.
  const merged = (await prom()
    .AggregatorRegistry.aggregate([[...run], kept])
    .getMetricsAsJSON()) as unknown as MetricFamily[];
  return { families: sortFamilies(merged), warnings };
}

/** The node_exporter textfile (Prometheus text format 0.0.4) for these families. */
export async function renderFamilies(families: readonly MetricFamily[]): Promise<string> {
  // aggregate() of a single set is the identity: prom-client's way to build a registry from JSON.
  return prom()
    .AggregatorRegistry.aggregate([[...families]])
    .metrics();
}

/** How many samples (lines) the families hold. */
export function countSeries(families: readonly MetricFamily[]): number {
  return families.reduce((sum, f) => sum + f.values.length, 0);
}

function sameBuckets(family: MetricFamily, buckets: readonly number[]): boolean {
  const wanted = [...buckets.map(String), '+Inf'].sort().join();
  const bySeries = new Map<string, string[]>();
  for (const v of family.values) {
    if (v.metricName !== `${family.name}_bucket`) continue;
    const key = seriesKey(family.name, v.labels);
    bySeries.set(key, [...(bySeries.get(key) ?? []), String(v.labels.le)]);
  }
  return [...bySeries.values()].every((les) => les.sort().join() === wanted);
}

/** Stable order: families by name; samples by their labels (le aside), then _bucket (by le), _sum, _count. */
function sortFamilies(families: MetricFamily[]): MetricFamily[] {
  const suffixRank = (family: MetricFamily, metricName?: string) =>
    ['', '_bucket', '_sum', '_count'].indexOf((metricName ?? family.name).slice(family.name.length));
  const le = (labels: MetricFamily['values'][number]['labels']) =>
    labels.le === undefined ? 0 : labels.le === '+Inf' ? Infinity : Number(labels.le);
  return [...families]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((family) => ({
      ...family,
      values: [...family.values]
        .sort((a, b) => {
          const ka = seriesKey('', a.labels);
          const kb = seriesKey('', b.labels);
          if (ka !== kb) return ka < kb ? -1 : 1;
          return suffixRank(family, a.metricName) - suffixRank(family, b.metricName) || le(a.labels) - le(b.labels);
        })
        .map(leLast),
    }));
}

/** `le` written after the other labels, as Prometheus' own clients do. */
function leLast(value: MetricFamily['values'][number]): MetricFamily['values'][number] {
  if (value.labels.le === undefined) return value;
  const { le, ...rest } = value.labels;
  return { ...value, labels: { ...rest, le } };
}

/** A family's series: its name and labels, `le` aside (a histogram's buckets are one series). */
function seriesKey(name: string, labels: Record<string, string | number | undefined>): string {
  const pairs = Object.entries(labels)
    .filter(([key, value]) => key !== 'le' && value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return `${name}${JSON.stringify(pairs)}`;
}
