import { execFile, spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { currentProcess, formatLockRecord } from '../lock/index.ts';
import { checkoutReadableBy, inCheckout, REPO_ROOT, tempDir } from '../testing.ts';
import {
  DURATION_BUCKETS,
  failureMetrics,
  fullBackupMetrics,
  MetricsUpdate,
  metricsStatePath,
  realtimeMetrics,
  remoteSyncMetrics,
  updateMetricsFile,
} from './index.ts';
import { parseExposition, promtoolCheck, sampleValue, type Exposition } from './testing/exposition.ts';
import { AT, facts, fullSuccess, metricsDir, N, read, T, write } from './testing/metrics-scene.ts';

// updateMetricsFile: one textfile that every script's runs merge into, valid for promtool,
// rebuilt from its state, safe under concurrent writers and killed ones.

const run = promisify(execFile);

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
