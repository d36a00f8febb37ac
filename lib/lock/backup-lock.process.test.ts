// The lock between real processes: concurrent holders, a SIGKILLed holder, several runs
// racing to break its stale lock. Each subprocess takes the lock exactly as a script does.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../testing.ts';
import { LOCK_FILE_NAME } from './index.ts';

const TSX = createRequire(import.meta.url).resolve('tsx');
const HELPER = join(REPO_ROOT, 'lib', 'lock', 'testing', 'hold-lock.ts');

interface Holder {
  child: ChildProcess;
  /** Resolves when the helper reports it holds the lock. */
  acquired: Promise<void>;
  stderr: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function holdLock(
  backupDir: string,
  hold: number | 'forever' | 'stdin',
  log: string,
  timeoutMs: number,
  label: string,
): Holder {
  const child = spawn(
    process.execPath,
    ['--import', TSX, HELPER, backupDir, String(hold), log, String(timeoutMs), label],
    { cwd: REPO_ROOT, stdio: [hold === 'stdin' ? 'pipe' : 'ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  let onAcquired: () => void = () => {};
  const acquired = new Promise<void>((resolve) => (onAcquired = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('acquired ')) onAcquired();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stderr }));
    },
  );
  return { child, acquired, stderr: () => stderr, done };
}

async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The log must read start X, end X, start Y, end Y, …: never two holders at once. */
function expectSerialised(log: string, labels: string[]): void {
  const lines = log
    .trim()
    .split('\n')
    .map((l) => l.split(' '));
  expect(lines).toHaveLength(labels.length * 2);
  for (let i = 0; i < lines.length; i += 2) {
    expect(lines[i]![0], log).toBe('start');
    expect(lines[i + 1]![0], log).toBe('end');
    expect(lines[i + 1]![1], log).toBe(lines[i]![1]);
  }
  expect(
    lines
      .filter((l) => l[0] === 'start')
      .map((l) => l[1])
      .sort(),
  ).toEqual([...labels].sort());
}

const events = (stderr: string, kind: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('EVENT '))
    .map((l) => JSON.parse(l.slice(6)) as { kind: string; reason?: string })
    .filter((e) => e.kind === kind);

describe('backup folder lock between processes', { timeout: 60_000 }, () => {
  it('concurrent runs take turns; one that may not wait fails naming the holder', async () => {
    const dir = await tempDir('ark-lockp-');
    const log = join(dir, 'log');
    const first = holdLock(dir, 'stdin', log, 20_000, 'first');
    await first.acquired;
    const impatient = holdLock(dir, 0, log, 0, 'impatient');
    const waiting = ['a', 'b', 'c'].map((label) => holdLock(dir, 100, log, 30_000, label));
    const refused = await impatient.done;
    await waitUntil(
      async () => (await readFile(log, 'utf8')).length > 0 && waiting.every((w) => w.stderr().includes('lock-waiting')),
    );
    first.child.stdin!.end(); // let the first holder finish only once all three wait for it
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(
      new RegExp(
        `ERROR LOCK_HELD ${dir} is in use by another arkalia-dr run: pid ${first.child.pid} on host ${hostname()} since \\S+ \\(\\d+ s ago\\), command: hold-lock first; not waiting \\(--lock-timeout 0\\)`,
      ),
    );
    const outcomes = await Promise.all([first.done, ...waiting.map((w) => w.done)]);
    for (const o of outcomes) expect(o.code, o.stderr).toBe(0);
    for (const o of outcomes.slice(1)) expect(events(o.stderr, 'lock-waiting').length).toBe(1);
    expectSerialised(await readFile(log, 'utf8'), ['first', 'a', 'b', 'c']);
    expect(await readdir(dir)).toEqual(['log']);
  });

  it("a SIGKILLed holder's lock is broken by exactly one of the runs racing for it", async () => {
    const dir = await tempDir('ark-lockp-');
    const log = join(dir, 'log');
    const victim = holdLock(dir, 'forever', log, 1_000, 'victim');
    await victim.acquired;
    victim.child.kill('SIGKILL');
    expect((await victim.done).signal).toBe('SIGKILL');
    expect(await readdir(dir)).toContain(LOCK_FILE_NAME); // the lock outlives its holder

    const racers = ['r1', 'r2', 'r3', 'r4'].map((label) => holdLock(dir, 50, log, 30_000, label));
    const outcomes = await Promise.all(racers.map((r) => r.done));
    for (const o of outcomes) expect(o.code, o.stderr).toBe(0);
    const breaks = outcomes.flatMap((o) => events(o.stderr, 'lock-broken'));
    expect(breaks).toHaveLength(1);
    expect(breaks[0]!.reason).toMatch(
      new RegExp(
        `removed a stale lock \\(process ${victim.child.pid} no longer exists\\): pid ${victim.child.pid} on host .* command: hold-lock victim`,
      ),
    );
    const text = await readFile(log, 'utf8');
    expect(text.split('\n')[0]).toBe(`start victim ${victim.child.pid}`);
    expectSerialised(text.split('\n').slice(1).join('\n'), ['r1', 'r2', 'r3', 'r4']);
    expect(await readdir(dir)).toEqual(['log']);
  });
});
