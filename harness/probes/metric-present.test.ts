import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProbe } from './index.ts';
import { parseTextfile } from './metric-present.ts';
import { probeContext } from './testing.ts';

const TEXTFILE = `# HELP arkalia_backup_last_success_timestamp_seconds Last successful backup.
# TYPE arkalia_backup_last_success_timestamp_seconds gauge
arkalia_backup_last_success_timestamp_seconds{type="full"} 1.7645e+09
arkalia_backup_failures_total{type="full",reason="disk \\"full\\""} 2
arkalia_backup_duration_seconds_bucket{type="full",le="+Inf"} 3
up 1 1700000000000
`;

describe('metric-present probe', () => {
  it('parses the node_exporter text format', () => {
    expect(parseTextfile(TEXTFILE)).toEqual([
      { name: 'arkalia_backup_last_success_timestamp_seconds', labels: { type: 'full' }, value: 1.7645e9 },
      { name: 'arkalia_backup_failures_total', labels: { type: 'full', reason: 'disk "full"' }, value: 2 },
      { name: 'arkalia_backup_duration_seconds_bucket', labels: { type: 'full', le: '+Inf' }, value: 3 },
      { name: 'up', labels: {}, value: 1 },
    ]);
  });

  it('finds a metric by name, labels and minimum value in a metrics file of the workspace', async () => {
    const ctx = await probeContext();
    await writeFile(join(ctx.work, 'metrics.prom'), TEXTFILE);
    const probe = {
      probe: 'metric-present',
      in: 'work',
      file: 'metrics.prom',
      metric: 'arkalia_backup_failures_total',
      labels: { type: 'full' },
    } as const;
    expect((await runProbe(probe, ctx)).ok).toBe(true);
    expect((await runProbe({ ...probe, min: 3 }, ctx)).ok).toBe(false);
    expect((await runProbe({ ...probe, labels: { type: 'states' } }, ctx)).ok).toBe(false);
    expect(await runProbe({ ...probe, file: 'none.prom' }, ctx)).toMatchObject({
      ok: false,
      detail: 'cannot read the metrics file: ENOENT',
    });
  });
});
