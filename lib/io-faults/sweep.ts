import { isArkError } from '../errors.ts';
import { eligibleFor, FaultFs, isPersistent, type FaultCode, type IoCall } from './fault-fs.ts';

// SQLite's I/O-error sweep: run an operation once and count its file-system calls, then run
// it again once per call index i, failing call i (and, for a full disk, every later
// allocating call), and check the invariant after each run. ARK_SWEEP=full runs every index;
// otherwise a fixed sample of them (the first and last few, and every k-th between).

export interface SweepRun<Ctx> {
  ctx: Ctx;
  code: FaultCode;
  nth: number;
  /** What the operation threw, or null if it completed despite the fault. */
  error: unknown;
  /** The calls that were failed (the first is the fault; a full disk fails later ones too). */
  injected: IoCall[];
}

export interface SweepSpec<Ctx> {
  name: string;
  codes: readonly FaultCode[];
  /** A fresh world for one run (not counted, not failed). */
  setup: () => Promise<Ctx>;
  /** The folders whose calls are counted and failed. */
  scopes: (ctx: Ctx) => string[];
  /** The operation under test. */
  run: (ctx: Ctx) => Promise<unknown>;
  /** The invariant, after a run with a fault (the shim is disarmed: the fault is gone). Throws if broken. */
  check: (run: SweepRun<Ctx>) => Promise<void>;
  /** In the sampled sweep, about this many indices per error kind (default 24). */
  sample?: number;
  /** After each faulted run and its check: remove its world. */
  teardown?: (ctx: Ctx) => Promise<void>;
  /** Only these runs (a sweep split over two test files, which run in parallel). */
  pick?: (code: FaultCode, nth: number) => boolean;
}

export interface SweepResult {
  name: string;
  /** Calls counted in the clean run. */
  calls: number;
  /** Runs made per error kind, and how many faults were injected in all (a full disk fails several calls per run). */
  runs: Record<string, number>;
  injected: number;
  /** Runs whose fault was swallowed (the operation still completed): the invariant was checked all the same. */
  completedDespite: number;
  full: boolean;
}

export const fullSweep = (): boolean => process.env.ARK_SWEEP === 'full';

/** Indices 1..n to fail: all of them in a full sweep, else the first and last 5 and an even spread between. */
export function sweepIndices(n: number, sample: number, full = fullSweep()): number[] {
  if (full || n <= sample) return Array.from({ length: n }, (_, i) => i + 1);
  const picked = new Set<number>();
  for (let i = 1; i <= Math.min(5, n); i++) picked.add(i);
  for (let i = Math.max(1, n - 4); i <= n; i++) picked.add(i);
  const step = n / (sample - picked.size);
  for (let x = step / 2; x < n; x += step) picked.add(Math.min(n, Math.max(1, Math.round(x))));
  return [...picked].sort((a, b) => a - b);
}

const MAX_SHOWN = Number(process.env.ARK_SWEEP_SHOW ?? 12);

/** Run the sweep; every broken invariant is reported at the end, each with its error kind, call index and call. */
export async function runSweep<Ctx>(spec: SweepSpec<Ctx>): Promise<SweepResult> {
  await FaultFs.ready();
  const clean = await spec.setup();
  const counter = new FaultFs(spec.scopes(clean)).install();
  let calls: IoCall[];
  try {
    counter.arm(null);
    await spec.run(clean);
    calls = [...counter.calls];
  } finally {
    counter.uninstall();
  }
  await spec.teardown?.(clean);
  const result: SweepResult = {
    name: spec.name,
    calls: calls.length,
    runs: {},
    injected: 0,
    completedDespite: 0,
    full: fullSweep(),
  };
  const failures: string[] = [];
  for (const code of spec.codes) {
    const eligible = calls.filter((c) => eligibleFor(code, c)).length;
    const indices = sweepIndices(eligible, spec.sample ?? 24).filter((nth) => spec.pick?.(code, nth) ?? true);
    result.runs[code] = 0;
    for (const nth of indices) {
      const ctx = await spec.setup();
      const shim = new FaultFs(spec.scopes(ctx)).install();
      let error: unknown = null;
      let injected: IoCall[];
      try {
        shim.arm({ code, nth, persistent: isPersistent(code) });
        await spec.run(ctx).catch((e: unknown) => {
          error = e;
        });
        injected = [...shim.injected];
      } finally {
        shim.uninstall();
      }
      result.runs[code] += 1;
      result.injected += injected.length;
      if (injected.length === 0) {
        await spec.teardown?.(ctx);
        continue; // fewer calls this time (a different path): nothing was failed
      }
      if (error === null) result.completedDespite += 1;
      try {
        await spec.check({ ctx, code, nth, error, injected });
      } catch (broken) {
        const first = injected[0]!;
        const why = broken instanceof Error ? broken.message : String(broken);
        const threw = error === null ? 'completed' : `threw: ${error instanceof Error ? error.message : String(error)}`;
        failures.push(
          `${code} on call ${nth} (${first.op} ${first.path}); the run ${threw}\n    ${why.split('\n').join('\n    ')}`,
        );
      }
      await spec.teardown?.(ctx);
    }
  }
  if (failures.length > 0)
    throw new Error(
      `${spec.name}: ${failures.length} of ${Object.values(result.runs).reduce((a, b) => a + b, 0)} faulted runs broke an invariant:\n  ${failures.slice(0, MAX_SHOWN).join('\n  ')}${failures.length > MAX_SHOWN ? `\n  … and ${failures.length - MAX_SHOWN} more` : ''}`,
    );
  return result;
}

/** One line for the test log (and the CI log): what was swept and how many faults were injected. */
export function describeSweep(r: SweepResult): string {
  const runs = Object.entries(r.runs)
    .map(([code, n]) => `${code} ×${n}`)
    .join(', ');
  return `io-fault sweep ${r.name}: ${r.calls} file-system calls; ${r.full ? 'every index' : 'sampled indices'}: ${runs}; ${r.injected} faults injected; every invariant held`;
}

/** What each error kind's message must say, in words. */
export const NAMED: Record<FaultCode, RegExp> = {
  ENOSPC: /no space left/i,
  EIO: /i\/o error/i,
  EACCES: /permission denied/i,
  EROFS: /read-only/i,
};

/**
 * What is wrong with how a run reported a disk fault, or null: it must be a named error
 * (never "unexpected"), say the fault in words, and never call a full disk an integrity
 * problem (exit 3: the backup is not damaged because the disk is full).
 */
export function namingProblem(code: FaultCode, error: unknown): string | null {
  if (error === null) return null;
  if (!isArkError(error) || error.code === 'UNEXPECTED')
    return `not a named error: ${error instanceof Error ? error.message : String(error)}`;
  if (!NAMED[code].test(error.message)) return `the message does not name the ${code}: ${error.message}`;
  if (code === 'ENOSPC' && error.exitCode === 3)
    return `a full disk reported as an integrity problem (${error.code}): ${error.message}`;
  return null;
}
