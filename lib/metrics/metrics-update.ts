import { ArkError } from '../errors.ts';
import { BACKUP_METRICS, LABEL_VALUE, type MetricKey } from './backup-metrics.ts';

export type MetricChange =
  | { op: 'set'; metric: MetricKey; labels: Record<string, string>; value: number }
  | { op: 'inc'; metric: MetricKey; labels: Record<string, string>; value: number }
  | { op: 'observe'; metric: MetricKey; labels: Record<string, string>; value: number };

const OP_FOR_KIND = { gauge: 'set', counter: 'inc', histogram: 'observe' } as const;

/**
 * What one run observed, as plain data: gauges to set, counters to add to, durations to
 * observe. Merged into the accumulated metrics by updateMetricsFile. Each change is checked
 * here (known metric, the right operation, exactly its labels, stable label values, a finite
 * value), so a mistake fails at once in a test rather than in the textfile.
 */
export class MetricsUpdate {
  readonly changes: MetricChange[] = [];

  set(metric: MetricKey, labels: Record<string, string>, value: number): this {
    return this.add({ op: 'set', metric, labels, value });
  }

  inc(metric: MetricKey, labels: Record<string, string>, value = 1): this {
    if (!(value >= 0))
      throw new ArkError('METRICS_INVALID', `${BACKUP_METRICS[metric].name} is a counter: cannot add ${value}`);
    return this.add({ op: 'inc', metric, labels, value });
  }

  observe(metric: MetricKey, labels: Record<string, string>, value: number): this {
    return this.add({ op: 'observe', metric, labels, value });
  }

  /** The changes of `other` after ours. */
  merge(other: MetricsUpdate): this {
    for (const change of other.changes) this.add(change);
    return this;
  }

  get empty(): boolean {
    return this.changes.length === 0;
  }

  private add(change: MetricChange): this {
    const spec = BACKUP_METRICS[change.metric];
    if (OP_FOR_KIND[spec.kind] !== change.op)
      throw new ArkError('METRICS_INVALID', `${spec.name} is a ${spec.kind}: cannot ${change.op} it`);
    const given = Object.keys(change.labels).sort();
    const wanted = [...spec.labelNames].sort();
    if (given.join() !== wanted.join())
      throw new ArkError(
        'METRICS_INVALID',
        `${spec.name} takes labels {${wanted.join(', ')}}, got {${given.join(', ')}}`,
      );
    for (const [name, value] of Object.entries(change.labels)) {
      if (!LABEL_VALUE.test(value))
        throw new ArkError(
          'METRICS_INVALID',
          `${spec.name}: label ${name}=${JSON.stringify(value)} is not a short lower-case code`,
        );
    }
    if (!Number.isFinite(change.value))
      throw new ArkError('METRICS_INVALID', `${spec.name}: ${change.value} is not a finite number`);
    this.changes.push({ ...change, labels: { ...change.labels } });
    return this;
  }
}
