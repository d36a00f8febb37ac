import { describe, expect, it } from 'vitest';
import { ArkError } from '../errors.ts';
import {
  encryptedBackupMetrics,
  failureReason,
  familiesOf,
  fullBackupMetrics,
  mergeFamilies,
  MetricsUpdate,
  pruneMetrics,
  realtimeEventMetrics,
  realtimeMetrics,
  remoteSyncMetrics,
  type MetricFamily,
} from './index.ts';
import { AT, facts, fullSuccess, N, T } from './testing/metrics-scene.ts';

describe('MetricsUpdate', () => {
  it('refuses what would make an invalid or unstable series: wrong operation, wrong labels, free-text label values, non-finite values', () => {
    const u = new MetricsUpdate();
    expect(() => u.inc('lastSuccess', { type: 'full' })).toThrow(/is a gauge: cannot inc/);
    expect(() => u.set('failures', { type: 'full', reason: 'x' }, 1)).toThrow(/is a counter: cannot set/);
    expect(() => u.set('lastSuccess', {}, 1)).toThrow(/takes labels \{type\}, got \{\}/);
    expect(() => u.inc('failures', { type: 'full' })).toThrow(/takes labels \{reason, type\}/);
    expect(() => u.inc('failures', { type: 'full', reason: 'disk full: /backup' })).toThrow(
      /not a short lower-case code/,
    );
    expect(() => u.observe('duration', { type: 'full' }, Number.NaN)).toThrow(/not a finite number/);
    expect(() => u.inc('failures', { type: 'full', reason: 'x' }, -1)).toThrow(/cannot add -1/);
    expect(u.empty).toBe(true);
  });

  it('failure reasons are the error code, lower-cased; anything else is "unexpected"', () => {
    expect(failureReason(new ArkError('LOCK_HELD', 'busy'))).toBe('lock_held');
    expect(failureReason(new Error('boom at /backup/x'))).toBe('unexpected');
    expect(failureReason(Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' }))).toBe(
      'enospc',
    );
    expect(failureReason('a string')).toBe('unexpected');
  });
});

describe('mergeFamilies', () => {
  const families = (update: MetricsUpdate) => familiesOf(update);

  it("adds counters and histograms, takes this run's gauges, keeps series and families it does not touch", async () => {
    const first = await families(
      new MetricsUpdate()
        .inc('failures', { type: 'full', reason: 'lock_held' })
        .observe('duration', { type: 'full' }, 12)
        .set('size', { type: 'full' }, 100)
        .set('size', { type: 'logs' }, 7),
    );
    const foreign: MetricFamily = {
      name: 'arkalia_drill_last_run_success',
      help: 'drills',
      type: 'gauge',
      aggregator: 'first',
      values: [{ value: 1, labels: { scenario: 'disk-loss' } }],
    };
    const before = (await mergeFamilies([foreign], first)).families;
    const second = await families(
      new MetricsUpdate()
        .inc('failures', { type: 'full', reason: 'lock_held' }, 2)
        .observe('duration', { type: 'full' }, 0.3)
        .set('size', { type: 'full' }, 90),
    );
    const { families: after, warnings } = await mergeFamilies(before, second);
    expect(warnings).toEqual([]);
    const value = (name: string, labels: Record<string, string | number>, metricName = name) =>
      after
        .find((f) => f.name === name)
        ?.values.find(
          (v) =>
            (v.metricName ?? name) === metricName &&
            JSON.stringify(Object.entries(v.labels).sort()) === JSON.stringify(Object.entries(labels).sort()),
        )?.value;
    expect(value(N.failures.name, { type: 'full', reason: 'lock_held' })).toBe(3);
    expect(value(N.size.name, { type: 'full' })).toBe(90); // this run's value
    expect(value(N.size.name, { type: 'logs' })).toBe(7); // untouched: kept
    expect(value(N.duration.name, { type: 'full' }, `${N.duration.name}_count`)).toBe(2);
    expect(value(N.duration.name, { type: 'full' }, `${N.duration.name}_sum`)).toBeCloseTo(12.3);
    expect(value(N.duration.name, { type: 'full', le: 0.5 }, `${N.duration.name}_bucket`)).toBe(1);
    expect(value(N.duration.name, { type: 'full', le: 15 }, `${N.duration.name}_bucket`)).toBe(2);
    expect(value(N.duration.name, { type: 'full', le: '+Inf' }, `${N.duration.name}_bucket`)).toBe(2);
    expect(value('arkalia_drill_last_run_success', { scenario: 'disk-loss' })).toBe(1);
  });

  it('a label-less gauge the run did not set keeps its value (prom-client starts it at 0)', async () => {
    const verified = (await mergeFamilies([], await families(new MetricsUpdate().set('lastVerified', {}, T)))).families;
    const { families: after } = await mergeFamilies(
      verified,
      await families(new MetricsUpdate().inc('failures', { type: 'prune', reason: 'backup_corrupt' })),
    );
    expect(after.find((f) => f.name === N.lastVerified.name)?.values).toEqual([{ value: T, labels: {} }]);
  });

  it("drops, with a warning, an accumulated family whose type or buckets differ from today's definition", async () => {
    const old: MetricFamily[] = [
      {
        name: N.duration.name,
        help: 'old',
        type: 'histogram',
        aggregator: 'sum',
        values: [1, '+Inf'].flatMap((le) => [
          { value: 5, labels: { type: 'full', le }, metricName: `${N.duration.name}_bucket` },
        ]),
      },
      {
        name: N.lastVerified.name,
        help: 'old',
        type: 'counter',
        aggregator: 'sum',
        values: [{ value: 3, labels: {} }],
      },
    ];
    const { families: after, warnings } = await mergeFamilies(
      old,
      await families(new MetricsUpdate().observe('duration', { type: 'full' }, 2)),
    );
    expect(warnings.map((w) => w.message)).toEqual([
      `${N.duration.name}: its buckets changed; its accumulated values start again from this run`,
      `${N.lastVerified.name}: it was a counter, it is now a gauge; its accumulated values start again from this run`,
    ]);
    const count = after
      .find((f) => f.name === N.duration.name)
      ?.values.find((v) => v.metricName === `${N.duration.name}_count`);
    expect(count?.value).toBe(1);
    expect(after.find((f) => f.name === N.lastVerified.name)).toMatchObject({ type: 'gauge', values: [] });
  });
});

describe('job metrics', () => {
  const names = (u: MetricsUpdate) => u.changes.map((c) => `${c.op} ${c.metric}${JSON.stringify(c.labels)}=${c.value}`);

  it('full backup: last success (type="full" only), duration, total and per-archive sizes; its prune under type="prune"', () => {
    const ok = fullBackupMetrics(
      { ...fullSuccess({ states: 300, logs: 50 }), prune: { ok: true, report: { corrupt: [], hashed: 1 } as never } },
      facts(42),
    );
    expect(names(ok)).toEqual([
      `set lastSuccess{"type":"full"}=${T}`,
      'set invalidStates{"source":"backup"}=0',
      'observe duration{"type":"full"}=42',
      'set size{"type":"full"}=350',
      'set size{"type":"states"}=300',
      'set size{"type":"logs"}=50',
      `set lastVerified{}=${T}`,
    ]);
    // full-backup's own prune that hashed nothing (the new backup is known good) verified nothing.
    expect(
      names(
        fullBackupMetrics(
          { ...fullSuccess({ states: 1, logs: 1 }), prune: { ok: true, report: { corrupt: [], hashed: 0 } as never } },
          facts(1),
        ),
      ),
    ).not.toContain(`set lastVerified{}=${T}`);
    const pruneFailed = fullBackupMetrics(
      { ...fullSuccess({ states: 1, logs: 1 }), prune: { ok: false, error: new ArkError('PRUNE_DELETE_FAILED', 'x') } },
      facts(1),
    );
    expect(names(pruneFailed).slice(0, 1)).toEqual([`set lastSuccess{"type":"full"}=${T}`]);
    expect(names(pruneFailed).at(-1)).toBe('inc failures{"type":"prune","reason":"prune_delete_failed"}=1');
  });

  it('full backup that archived invalid state files: still a success (last success, sizes), the files counted by their own gauge, not as a failure', () => {
    const u = fullBackupMetrics(
      {
        ...fullSuccess({ states: 1, logs: 1 }),
        invalidStates: [
          { path: 'state/x.toml', reason: 'bad' },
          { path: 'state/y.toml', reason: 'bad' },
        ],
      },
      facts(3),
    );
    expect(names(u)).toEqual([
      `set lastSuccess{"type":"full"}=${T}`,
      'set invalidStates{"source":"backup"}=2',
      'observe duration{"type":"full"}=3',
      'set size{"type":"full"}=2',
      'set size{"type":"states"}=1',
      'set size{"type":"logs"}=1',
    ]);
    expect(names(u).some((n) => n.includes('failures'))).toBe(false);
  });

  it('prune, realtime, encrypted, offsite: success and failure', () => {
    expect(names(pruneMetrics({ corrupt: [], hashed: 2 }, facts(5)))).toEqual([
      `set lastVerified{}=${T}`,
      'observe duration{"type":"prune"}=5',
    ]);
    expect(
      names(pruneMetrics({ corrupt: [{ date: '20261101', problem: 'sha256 mismatch' }], hashed: 2 }, facts(5))),
    ).toEqual(['inc failures{"type":"prune","reason":"backup_corrupt"}=1']);
    expect(names(realtimeMetrics({ failed: [], invalid: [] }, facts(0.2)))).toEqual([
      'set invalidStates{"source":"realtime"}=0',
      'observe duration{"type":"realtime"}=0.2',
    ]);
    expect(
      names(
        realtimeMetrics(
          { failed: [{ path: 'a', code: 'ENOSPC', message: 'disk full' }], invalid: [{ path: 'b', reason: 'x' }] },
          facts(0.2),
        ),
      ),
    ).toEqual(['set invalidStates{"source":"realtime"}=1', 'inc failures{"type":"realtime","reason":"enospc"}=1']);
    // Invalid files are not a failed pass: the pass snapshotted every valid file.
    expect(names(realtimeMetrics({ failed: [], invalid: [{ path: 'b', reason: 'x' }] }, facts(0.2)))).toEqual([
      'set invalidStates{"source":"realtime"}=1',
      'observe duration{"type":"realtime"}=0.2',
    ]);
    expect(
      names(
        realtimeEventMetrics(
          [
            { kind: 'snapshot-failed', path: 'a', code: 'EACCES', message: 'x' },
            { kind: 'snapshot-written', path: 'a', snapshot: 's', bytes: 1, sha256: 'x' },
            { kind: 'invalid-state', path: 'b', reason: 'x' },
          ],
          1,
        ),
      ),
    ).toEqual(['set invalidStates{"source":"realtime"}=1', 'inc failures{"type":"realtime","reason":"eacces"}=1']);
    expect(names(encryptedBackupMetrics({ files: [{ bytes: 10 }, { bytes: 5 }] as never }, facts(8)))).toEqual([
      'observe duration{"type":"encrypted"}=8',
      'set size{"type":"encrypted"}=15',
      `set lastVerified{}=${T}`,
    ]);
    expect(
      names(
        remoteSyncMetrics({ problems: [], succeededAt: AT.toISOString(), remote: { files: 2, bytes: 99 } }, facts(4)),
      ),
    ).toEqual(['observe duration{"type":"offsite"}=4', 'set size{"type":"offsite"}=99', `set offsiteLastSync{}=${T}`]);
    expect(
      names(
        remoteSyncMetrics(
          {
            problems: [{ name: 'a', code: 'OFFSITE_VERIFY_MISMATCH', message: 'x' }],
            succeededAt: null,
            remote: { files: 0, bytes: 0 },
          },
          facts(4),
        ),
      ),
    ).toEqual(['inc failures{"type":"offsite","reason":"offsite_verify_mismatch"}=1']);
  });
});
