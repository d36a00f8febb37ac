import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ArkError } from '../errors.ts';
import { currentProcess, formatLockRecord } from '../lock/index.ts';
import { checkoutReadableBy, inCheckout, REPO_ROOT, tempDir } from '../testing.ts';
import {
  BACKUP_METRICS,
  DURATION_BUCKETS,
  encryptedBackupMetrics,
  failureMetrics,
  failureReason,
  familiesOf,
  fullBackupMetrics,
  mergeFamilies,
  MetricsUpdate,
  metricsStatePath,
  pruneMetrics,
  realtimeEventMetrics,
  realtimeMetrics,
  remoteSyncMetrics,
  updateMetricsFile,
  type MetricFamily,
} from './index.ts';
import { parseExposition, promtoolCheck, sampleValue, type Exposition } from './testing/exposition.ts';

const run = promisify(execFile);
const AT = new Date('2026-11-26T03:00:00Z');
const T = AT.getTime() / 1000;
const N = BACKUP_METRICS;
const facts = (durationSeconds: number, at = AT) => ({ at, durationSeconds });

async function metricsDir(): Promise<string> {
  return join(await tempDir('ark-metrics-'), 'textfile');
}

async function write(file: string, update: MetricsUpdate, at = AT) {
  return updateMetricsFile({ file, update, now: () => at });
}

async function read(file: string): Promise<Exposition> {
  return parseExposition(await readFile(file, 'utf8'));
}

const fullSuccess = (bytes: { states: number; logs: number }) => ({
  manifest: {
    archives: [
      { name: 'states', size_bytes: bytes.states },
      { name: 'logs', size_bytes: bytes.logs },
    ],
  } as never,
  invalidStates: [],
});

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

describe('updateMetricsFile', () => {
  it('merges the runs of every script into one file: counters never go down, histograms accumulate, gauges follow the last run', async () => {
    const file = join(await metricsDir(), 'arkalia-dr.prom');
    await mkdir(join(file, '..'));
    const runs: MetricsUpdate[] = [
      fullBackupMetrics(
        { ...fullSuccess({ states: 300, logs: 50 }), prune: { ok: true, report: { corrupt: [], hashed: 1 } as never } },
        facts(40),
      ),
      realtimeMetrics({ failed: [], invalid: [] }, facts(0.2)),
      failureMetrics('full', 'lock_held'),
      remoteSyncMetrics({ problems: [], succeededAt: AT.toISOString(), remote: { files: 1, bytes: 64 } }, facts(3)),
      realtimeMetrics({ failed: [{ path: 'a', code: 'ENOSPC', message: 'x' }], invalid: [] }, facts(0.1)),
      fullBackupMetrics(
        { ...fullSuccess({ states: 310, logs: 40 }) },
        facts(4000, new Date(AT.getTime() + 86_400_000)),
      ),
      failureMetrics('full', 'lock_held'),
    ];
    const seen: Exposition[] = [];
    for (const [i, update] of runs.entries()) {
      await write(file, update, new Date(AT.getTime() + i * 60_000));
      seen.push(await read(file));
    }
    const last = seen.at(-1)!;
    expect(sampleValue(last, N.failures.name, { type: 'full', reason: 'lock_held' })).toBe(2);
    expect(sampleValue(last, N.failures.name, { type: 'realtime', reason: 'enospc' })).toBe(1);
    expect(sampleValue(last, N.lastSuccess.name, { type: 'full' })).toBe(T + 86_400);
    expect(last.samples.filter((s) => s.name === N.lastSuccess.name).map((s) => s.labels)).toEqual([{ type: 'full' }]); // no job can hide a stale full backup
    expect(sampleValue(last, N.size.name, { type: 'states' })).toBe(310);
    expect(sampleValue(last, N.size.name, { type: 'offsite' })).toBe(64);
    expect(sampleValue(last, N.offsiteLastSync.name)).toBe(T);
    expect(sampleValue(last, N.lastVerified.name)).toBe(T);
    expect(sampleValue(last, `${N.duration.name}_count`, { type: 'full' })).toBe(2);
    expect(sampleValue(last, `${N.duration.name}_sum`, { type: 'full' })).toBe(4040);
    expect(sampleValue(last, `${N.duration.name}_bucket`, { type: 'full', le: '60' })).toBe(1);
    expect(sampleValue(last, `${N.duration.name}_bucket`, { type: 'full', le: '7200' })).toBe(2);
    expect(sampleValue(last, `${N.duration.name}_count`, { type: 'realtime' })).toBe(1); // the failed pass is not a duration
    // Every counter-like sample (counters, buckets, _sum, _count) is monotonic from run to run.
    const monotonic = (s: { name: string }) => s.name === N.failures.name || s.name.startsWith(`${N.duration.name}_`);
    for (let i = 1; i < seen.length; i += 1) {
      for (const before of seen[i - 1]!.samples.filter(monotonic)) {
        expect(
          sampleValue(seen[i]!, before.name, before.labels),
          `${before.name}${JSON.stringify(before.labels)} after run ${i}`,
        ).toBeGreaterThanOrEqual(before.value);
      }
    }
    // Buckets are cumulative, ending with +Inf = _count, in le order.
    const buckets = last.samples.filter((s) => s.name === `${N.duration.name}_bucket` && s.labels.type === 'full');
    expect(buckets.map((b) => b.labels.le)).toEqual([...DURATION_BUCKETS.map(String), '+Inf']);
    expect(buckets.map((b) => b.value)).toEqual([...buckets.map((b) => b.value)].sort((a, b) => a - b));
  });

  it('writes a file promtool accepts without a lint problem, with HELP and TYPE for every family, even those without samples', async () => {
    const dir = await metricsDir();
    await mkdir(dir);
    const file = join(dir, 'arkalia-dr.prom');
    await write(file, failureMetrics('offsite', 'lock_held'));
    const text = await readFile(file, 'utf8');
    const exposition = parseExposition(text);
    for (const spec of Object.values(N)) {
      expect(exposition.help.get(spec.name), spec.name).toBe(spec.help);
      expect(exposition.type.get(spec.name), spec.name).toBe(spec.kind);
    }
    expect(await promtoolCheck(text)).toEqual({ code: 0, output: '' });
    await write(file, fullBackupMetrics({ ...fullSuccess({ states: 1, logs: 2 }) }, facts(1)));
    expect(await promtoolCheck(await readFile(file, 'utf8'))).toEqual({ code: 0, output: '' });
    // The check itself can fail: a counter without _total is a lint problem.
    expect(
      (await promtoolCheck('# HELP x_failures Failures.\n# TYPE x_failures counter\nx_failures 1\n')).output,
    ).toMatch(/counter metrics should have "_total" suffix/);
    // Only the textfile is *.prom (node_exporter reads nothing else); no temp file or lock is left.
    expect((await readdir(dir)).sort()).toEqual(['arkalia-dr.prom', 'arkalia-dr.prom.state.json']);
  });

  it('the state is the source of truth: a deleted textfile comes back with the totals; an unreadable state is set aside and counting restarts', async () => {
    const dir = await metricsDir();
    await mkdir(dir);
    const file = join(dir, 'm.prom');
    await write(file, failureMetrics('full', 'lock_held'));
    await rm(file);
    await write(file, failureMetrics('full', 'lock_held'));
    expect(sampleValue(await read(file), N.failures.name, { type: 'full', reason: 'lock_held' })).toBe(2);

    await writeFile(metricsStatePath(file), '{"format": "arkalia-dr-metrics/1", "families": [ trunc');
    const result = await write(file, failureMetrics('full', 'lock_held'));
    expect(result.warnings).toEqual([
      {
        code: 'METRICS_STATE_RESET',
        message: expect.stringMatching(
          /m\.prom\.state\.json could not be used \(not JSON: .*\); moved to .*m\.prom\.state\.json\.corrupt-20261126T030000000Z, counting starts again/,
        ),
      },
    ]);
    expect(sampleValue(await read(file), N.failures.name, { type: 'full', reason: 'lock_held' })).toBe(1);
    expect((await readdir(dir)).sort()).toEqual([
      'm.prom',
      'm.prom.state.json',
      'm.prom.state.json.corrupt-20261126T030000000Z',
    ]);
  });

  it('fails with METRICS_WRITE_FAILED, naming the file and why, when the folder is missing or not writable', async () => {
    const dir = await metricsDir();
    await expect(write(join(dir, 'm.prom'), failureMetrics('full', 'x'))).rejects.toMatchObject({
      code: 'METRICS_WRITE_FAILED',
      message: expect.stringMatching(/metrics not written to .*m\.prom: the folder .*textfile does not exist/),
    });
    await writeFile(dir, 'a file where the folder should be');
    await expect(write(join(dir, 'sub', 'm.prom'), failureMetrics('full', 'x'))).rejects.toMatchObject({
      code: 'METRICS_WRITE_FAILED',
    });
    const parent = await tempDir('ark-metrics-ro-');
    await chmod(parent, 0o755);
    const readOnly = join(parent, 'ro');
    await mkdir(readOnly);
    await chmod(readOnly, 0o555);
    // Root writes anywhere: the unwritable case runs as nobody.
    const helper = join(REPO_ROOT, 'lib', 'metrics', 'testing', 'bump-metrics.ts');
    const checkout = process.getuid?.() === 0 ? await checkoutReadableBy(65534) : null;
    const asNobody = checkout ? { uid: 65534, gid: 65534, cwd: checkout.repo } : { cwd: REPO_ROOT };
    const node = checkout?.node ?? process.execPath;
    const outcome = await run(
      node,
      ['--import', 'tsx', checkout ? inCheckout(helper, checkout) : helper, join(readOnly, 'm.prom'), '1', 'full'],
      asNobody,
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toMatch(
      /metrics not written to .*ro\/m\.prom: cannot use the lock file .*ro\/m\.prom\.lock: .*permission denied \(EACCES\)/,
    );
  });

  it('a lock left by a writer that was killed is broken (same host), not waited on', async () => {
    const dir = await metricsDir();
    await mkdir(dir);
    const file = join(dir, 'm.prom');
    const dead = spawn('true');
    await new Promise((r) => dead.on('close', r));
    await writeFile(
      join(dir, 'm.prom.lock'),
      formatLockRecord({
        ...currentProcess(),
        pid: dead.pid!,
        startTicks: '1',
        token: 'killed-writer',
        since: AT.toISOString(),
        command: 'full-backup.mts',
      }),
    );
    await updateMetricsFile({ file, update: failureMetrics('full', 'lock_held'), now: () => AT, lockTimeoutMs: 5_000 });
    expect(sampleValue(await read(file), N.failures.name, { type: 'full', reason: 'lock_held' })).toBe(1);
    expect((await readdir(dir)).sort()).toEqual(['m.prom', 'm.prom.state.json']);
  });

  it('concurrent writers (separate processes) lose no update', { timeout: 60_000 }, async () => {
    const dir = await metricsDir();
    await mkdir(dir);
    const file = join(dir, 'arkalia-dr.prom');
    const helper = join(REPO_ROOT, 'lib', 'metrics', 'testing', 'bump-metrics.ts');
    const writers = ['full', 'prune', 'full'].map(
      (type) =>
        new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', helper, file, '8', type], {
            cwd: REPO_ROOT,
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let stderr = '';
          child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, stderr }));
        }),
    );
    expect(await Promise.all(writers)).toEqual([0, 1, 2].map(() => ({ code: 0, stderr: '' })));
    const exposition = await read(file);
    expect(sampleValue(exposition, N.failures.name, { type: 'full', reason: 'lock_held' })).toBe(16);
    expect(sampleValue(exposition, N.failures.name, { type: 'prune', reason: 'lock_held' })).toBe(8);
    expect(sampleValue(exposition, `${N.duration.name}_count`, { type: 'full' })).toBe(16);
    expect(sampleValue(exposition, `${N.duration.name}_count`, { type: 'prune' })).toBe(8);
    expect(sampleValue(exposition, N.size.name, { type: 'prune' })).toBe(7);
    expect(await promtoolCheck(await readFile(file, 'utf8'))).toEqual({ code: 0, output: '' });
  });
});
