import { readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordingSink } from '../events.ts';
import { tempDir } from '../testing.ts';
import {
  acquireBackupLock,
  describeCommand,
  LOCK_FILE_NAME,
  lockPath,
  parseLockTimeout,
  readLockFile,
  withBackupLock,
  type LockOptions,
  type LockRecord,
  type ProcessIdentity,
} from './index.ts';
import { breakStaleLock } from './break-stale-lock.ts';
import { formatLockRecord } from './lock-record.ts';
import { currentProcess, processLiveness } from './process-identity.ts';

// In-process tests simulate several processes on one host: each has its own identity, and
// `alive` says which pids exist. The subprocess tests (backup-lock.process.test.ts) use real ones.

const HOST = 'host-a';
const identity = (pid: number, overrides: Partial<ProcessIdentity> = {}): ProcessIdentity => ({
  pid,
  host: HOST,
  bootId: 'boot-1',
  pidNamespace: 'pid:[1]',
  startTicks: `${pid}00`,
  ...overrides,
});

function world(alive: Set<number>, ticks: Map<number, string> = new Map()) {
  return {
    probe: { exists: (pid: number) => alive.has(pid), startTicks: (pid: number) => ticks.get(pid) ?? `${pid}00` },
    sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 5))),
  };
}

function options(
  backupDir: string,
  self: ProcessIdentity,
  alive: Set<number>,
  extra: Partial<LockOptions> = {},
): LockOptions {
  return { backupDir, self, ...world(alive), command: `test-${self.pid}`, timeoutMs: 2_000, ...extra };
}

async function plantLock(
  backupDir: string,
  holder: ProcessIdentity,
  token = `t${holder.pid}`,
  command = 'full-backup.mts --date 20261126',
): Promise<LockRecord> {
  const record: LockRecord = { ...holder, token, since: '2026-11-26T03:00:00.000Z', command };
  await writeFile(lockPath(backupDir), formatLockRecord(record));
  return record;
}

describe('backup folder lock: one holder', () => {
  it('writes who holds it, and removes only its own lock file on release', async () => {
    const dir = await tempDir('ark-lock-');
    const lock = await acquireBackupLock({ backupDir: dir, command: 'prune.mts --dry-run' });
    const state = await readLockFile(join(dir, LOCK_FILE_NAME));
    expect(state).toMatchObject({
      kind: 'record',
      record: { pid: process.pid, host: hostname(), command: 'prune.mts --dry-run', token: lock.record.token },
    });
    const onDisk = JSON.parse(await readFile(lock.path, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(onDisk)).toEqual([
      'tool',
      'pid',
      'host',
      'since',
      'command',
      'token',
      'boot_id',
      'pid_namespace',
      'process_start_ticks',
    ]);
    expect(lock.waitedMs).toBe(0);
    await lock.assertHeld();
    await lock.release();
    await lock.release(); // idempotent
    expect(await readdir(dir)).toEqual([]);
    await expect(lock.assertHeld()).rejects.toMatchObject({ code: 'LOCK_LOST' });
  });

  it('releases when the work throws, and a second take in the same process is refused, not deadlocked', async () => {
    const dir = await tempDir('ark-lock-');
    await expect(
      withBackupLock({ backupDir: dir }, async () => {
        await expect(acquireBackupLock({ backupDir: dir, timeoutMs: 60_000 })).rejects.toMatchObject({
          code: 'LOCK_REENTRANT',
        });
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(await readdir(dir)).toEqual([]);
  });

  it('a lock file removed by hand is noticed before more changes, and release leaves the new one alone', async () => {
    const dir = await tempDir('ark-lock-');
    const sink = recordingSink();
    const lock = await acquireBackupLock({ backupDir: dir, sink });
    await rm(lock.path);
    const other = await plantLock(dir, identity(77));
    await expect(lock.assertHeld()).rejects.toMatchObject({
      code: 'LOCK_LOST',
      message: expect.stringMatching(/removed by hand/),
    });
    await lock.release();
    expect(sink.events).toContainEqual(expect.objectContaining({ kind: 'warning', code: 'LOCK_LOST' }));
    expect(await readLockFile(lock.path)).toEqual({ kind: 'record', record: other });
  });

  it('sweeps what crashed runs left: claims on holdings that are over, and old temporary files', async () => {
    const dir = await tempDir('ark-lock-');
    const path = lockPath(dir);
    await writeFile(`${path}.break-gone.0`, 'a breaker that died after removing the stale lock');
    await writeFile(`${path}.tmp-1-old`, 'killed between write and link');
    await utimes(`${path}.tmp-1-old`, new Date(Date.now() - 2 * 3_600_000), new Date(Date.now() - 2 * 3_600_000));
    await writeFile(`${path}.tmp-2-new`, 'another run about to link it');
    const lock = await acquireBackupLock({ backupDir: dir });
    expect((await readdir(dir)).sort()).toEqual([LOCK_FILE_NAME, `${LOCK_FILE_NAME}.tmp-2-new`]);
    await lock.release();
  });

  it('fails clearly when the backup folder does not exist', async () => {
    const dir = await tempDir('ark-lock-');
    await expect(acquireBackupLock({ backupDir: join(dir, 'missing') })).rejects.toMatchObject({
      code: 'LOCK_IO',
      exitCode: 1,
      message: expect.stringMatching(/does the backup folder exist/),
    });
  });
});

describe('backup folder lock: a live holder', () => {
  it('--lock-timeout 0 fails at once naming pid, host, since and command (exit 4: locked, retryable)', async () => {
    const dir = await tempDir('ark-lock-');
    await plantLock(dir, identity(100));
    const sink = recordingSink();
    const error = await acquireBackupLock(
      options(dir, identity(200), new Set([100]), { timeoutMs: 0, sink, now: () => new Date('2026-11-26T03:12:00Z') }),
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'LOCK_HELD',
      exitCode: 4,
      retryable: true,
      details: { holder: { pid: 100, host: HOST, command: 'full-backup.mts --date 20261126' }, holder_state: 'alive' },
    });
    expect((error as Error).message).toBe(
      `${dir} is in use by another arkalia-dr run: pid 100 on host host-a since 2026-11-26T03:00:00.000Z (12 min ago), command: full-backup.mts --date 20261126; not waiting (--lock-timeout 0). Wait for it to finish, or pass a longer --lock-timeout; if it is stuck, stop it (kill 100): a lock whose process is gone is removed automatically.`,
    );
    expect(sink.events).toEqual([]);
    expect(await readLockFile(lockPath(dir))).toMatchObject({ kind: 'record', record: { pid: 100 } });
  });

  it('waits, says once who it waits for, and takes the lock when it is released', async () => {
    const dir = await tempDir('ark-lock-');
    const alive = new Set([100, 200]);
    const first = await acquireBackupLock(options(dir, identity(100), alive));
    const sink = recordingSink();
    const second = acquireBackupLock(options(dir, identity(200), alive, { sink, timeoutMs: 10_000 }));
    await new Promise((r) => setTimeout(r, 80));
    await first.release();
    const lock = await second;
    expect(lock.record.pid).toBe(200);
    expect(lock.waitedMs).toBeGreaterThanOrEqual(50);
    expect(sink.events.map((e) => e.kind)).toEqual(['lock-waiting', 'lock-acquired']);
    expect(sink.events[0]).toMatchObject({
      holder: { pid: 100, command: 'test-100' },
      message: expect.stringMatching(/is in use by pid 100 on host host-a .*; waiting up to 10 s/),
    });
    await lock.release();
  });

  it('gives up after the timeout', async () => {
    const dir = await tempDir('ark-lock-');
    await plantLock(dir, identity(100));
    const started = Date.now();
    await expect(
      acquireBackupLock(options(dir, identity(200), new Set([100]), { timeoutMs: 150 })),
    ).rejects.toMatchObject({ code: 'LOCK_HELD', message: expect.stringMatching(/gave up after waiting \d+ s/) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('backup folder lock: stale and foreign holders', () => {
  it('breaks the lock of a process that is gone, and says whose it was', async () => {
    const dir = await tempDir('ark-lock-');
    await plantLock(dir, identity(100));
    const sink = recordingSink();
    const lock = await acquireBackupLock(options(dir, identity(200), new Set([200]), { sink }));
    expect(sink.events).toEqual([
      expect.objectContaining({
        kind: 'lock-broken',
        holder: expect.objectContaining({ pid: 100 }),
        reason: expect.stringMatching(
          /^removed a stale lock \(process 100 no longer exists\): pid 100 on host host-a since .*command: full-backup\.mts --date 20261126$/,
        ),
      }),
    ]);
    expect((await readdir(dir)).sort()).toEqual([LOCK_FILE_NAME]); // no claim or temporary file left behind
    await lock.release();
  });

  it('treats a reused pid (same pid, other start time) and a restarted host as gone', () => {
    const self = identity(200);
    const { probe } = world(new Set([100]), new Map([[100, '999']]));
    expect(processLiveness(identity(100), self, probe)).toEqual({
      state: 'dead',
      reason: 'pid 100 now belongs to another process',
    });
    expect(processLiveness(identity(100, { bootId: 'boot-0' }), self, world(new Set([100])).probe)).toMatchObject({
      state: 'dead',
      reason: expect.stringMatching(/has restarted/),
    });
    expect(processLiveness(identity(100), self, world(new Set([100])).probe)).toEqual({ state: 'alive' });
    expect(processLiveness(identity(100, { startTicks: null }), self, probe)).toEqual({ state: 'alive' }); // cannot tell: assume it runs
  });

  it('never breaks a lock from another host or PID namespace, and says how to remove it', async () => {
    for (const [holder, where] of [
      [
        identity(100, { host: 'host-b' }),
        /It runs on another host \(host-b\), so this lock is never removed automatically: if no arkalia-dr run is active there, remove .*\.arkalia-dr\.lock by hand\./,
      ],
      [
        identity(100, { pidNamespace: 'pid:[2]' }),
        /another PID namespace on host-a \(a container\?\).*never removed automatically/,
      ],
    ] as const) {
      const dir = await tempDir('ark-lock-');
      const planted = await plantLock(dir, holder);
      const error = await acquireBackupLock(options(dir, identity(200), new Set(), { timeoutMs: 30 })).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'LOCK_HELD', details: { holder_state: 'unknown' } });
      expect((error as Error).message).toMatch(where);
      expect(await readLockFile(lockPath(dir))).toEqual({ kind: 'record', record: planted });
    }
  });

  it('never breaks a lock file it cannot read', async () => {
    const dir = await tempDir('ark-lock-');
    await writeFile(lockPath(dir), 'locked by hand\n');
    await expect(acquireBackupLock(options(dir, identity(200), new Set(), { timeoutMs: 0 }))).rejects.toMatchObject({
      code: 'LOCK_HELD',
      message: expect.stringMatching(
        /is not an arkalia-dr lock record \("locked by hand\\n"\); not waiting .* remove .*\.arkalia-dr\.lock by hand/,
      ),
    });
    expect(await readFile(lockPath(dir), 'utf8')).toBe('locked by hand\n');
  });

  it('a breaker killed mid-break does not block the next one; a live breaker is waited for', async () => {
    const dir = await tempDir('ark-lock-');
    const stale = await plantLock(dir, identity(100));
    const claim = (k: number, pid: number) =>
      writeFile(
        `${lockPath(dir)}.break-${stale.token}.${k}`,
        formatLockRecord({ ...identity(pid), token: `c${pid}`, since: stale.since, command: 'x' }),
      );
    await claim(0, 101); // a breaker that died after claiming
    await claim(1, 102); // and another one
    const sink = recordingSink();
    const lock = await acquireBackupLock(options(dir, identity(200), new Set([200]), { sink }));
    expect(sink.events.map((e) => e.kind)).toEqual(['lock-broken']);
    expect((await readdir(dir)).sort()).toEqual([LOCK_FILE_NAME]);
    await lock.release();

    const stale2 = await plantLock(dir, identity(100), 'second');
    await writeFile(
      `${lockPath(dir)}.break-${stale2.token}.0`,
      formatLockRecord({ ...identity(103), token: 'c103', since: stale2.since, command: 'x' }),
    );
    await expect(
      acquireBackupLock(options(dir, identity(200), new Set([103, 200]), { timeoutMs: 40 })),
    ).rejects.toMatchObject({
      code: 'LOCK_HELD',
      message: expect.stringMatching(/Its process is gone, but another run is removing the stale lock right now/),
    });
    expect(await readLockFile(lockPath(dir))).toMatchObject({ kind: 'record', record: { token: 'second' } });
  });

  it('a breaker that judged an old holding stale never removes the newer lock taken since', async () => {
    const dir = await tempDir('ark-lock-');
    const old: LockRecord = { ...identity(100), token: 'old', since: '2026-11-26T03:00:00.000Z', command: 'x' };
    const current = await plantLock(dir, identity(300), 'current');
    const me: LockRecord = { ...identity(200), token: 'me', since: old.since, command: 'y' };
    const { probe } = world(new Set([200, 300]));
    expect(await breakStaleLock(lockPath(dir), old, me, identity(200), probe)).toBe('gone');
    expect(await readLockFile(lockPath(dir))).toEqual({ kind: 'record', record: current });
    expect((await readdir(dir)).sort()).toEqual([LOCK_FILE_NAME]);
  });

  it('while one run is breaking a stale lock, no other can break it too (or it would remove the lock taken next)', async () => {
    const dir = await tempDir('ark-lock-');
    const stale = await plantLock(dir, identity(100));
    const { probe } = world(new Set([200, 300]));
    const me = (pid: number): LockRecord => ({
      ...identity(pid),
      token: `t${pid}`,
      since: stale.since,
      command: `run ${pid}`,
    });
    let resume: () => void = () => {};
    let paused: () => void = () => {};
    const atPause = new Promise<void>((r) => (paused = r));
    const slow = breakStaleLock(lockPath(dir), stale, me(200), identity(200), probe, {
      afterRecheck: () => {
        paused();
        return new Promise<void>((r) => (resume = r));
      },
    });
    await atPause; // run 200 has re-read the stale lock and is about to remove it
    expect(await breakStaleLock(lockPath(dir), stale, me(300), identity(300), probe)).toBe('busy');
    expect(await readLockFile(lockPath(dir))).toEqual({ kind: 'record', record: stale });
    resume();
    expect(await slow).toBe('broken');
    expect(await readdir(dir)).toEqual([]);
  });

  it('many contenders and a stale lock: exactly one breaks it, and no two ever hold it at once', async () => {
    const dir = await tempDir('ark-lock-');
    await plantLock(dir, identity(1));
    const alive = new Set<number>();
    const sink = recordingSink();
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const pid = 1000 + i;
        alive.add(pid);
        await withBackupLock(options(dir, identity(pid), alive, { sink, timeoutMs: 20_000 }), async () => {
          inside += 1;
          maxInside = Math.max(maxInside, inside);
          order.push(pid);
          await new Promise((r) => setTimeout(r, (i * 7) % 5));
          inside -= 1;
        });
      }),
    );
    expect(maxInside).toBe(1);
    expect(order.sort()).toEqual(Array.from({ length: 12 }, (_, i) => 1000 + i));
    expect(sink.events.filter((e) => e.kind === 'lock-broken')).toHaveLength(1);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('lock command-line helpers', () => {
  it('parses --lock-timeout as seconds or an ISO-8601 duration', () => {
    expect(parseLockTimeout(undefined)).toBe(600_000);
    expect(parseLockTimeout('0')).toBe(0);
    expect(parseLockTimeout('90')).toBe(90_000);
    expect(parseLockTimeout('2.5')).toBe(2_500);
    expect(parseLockTimeout('PT30M')).toBe(1_800_000);
    for (const bad of ['', '-1', '10m', 'P', 'soon'])
      expect(() => parseLockTimeout(bad)).toThrow(/--lock-timeout must be seconds/);
  });

  it('describes the command by its script and arguments', () => {
    expect(describeCommand(['/usr/bin/node', '/repo/scripts/prune.mts', '--dry-run'])).toBe('prune.mts --dry-run');
    expect(
      describeCommand([
        '/usr/bin/node',
        '/repo/node_modules/zx/build/cli.js',
        'scripts/full-backup.mts',
        '--date',
        '20261126',
      ]),
    ).toBe('full-backup.mts --date 20261126');
    expect(describeCommand(['/usr/bin/node', 'x.js'])).toBe('x.js');
  });

  it('knows this process on Linux: pid start time, boot and namespace', () => {
    const me = currentProcess();
    expect(me.pid).toBe(process.pid);
    expect(me.startTicks).toMatch(/^\d+$/);
    expect(me.bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(me.pidNamespace).toMatch(/^pid:\[\d+\]$/);
    expect(processLiveness(me, me)).toEqual({ state: 'alive' });
  });
});
