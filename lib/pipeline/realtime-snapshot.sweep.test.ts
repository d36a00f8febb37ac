import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import {
  copyDir,
  copyRoot,
  removeCopies,
  describeSweep,
  fingerprint,
  namingProblem,
  runSweep,
  sameTree,
  smallRoot,
  sweepPolicy,
  type SweepRun,
} from '../io-faults/index.ts';
import { tempDir } from '../testing.ts';
import { runRealtimeSnapshot } from './realtime-snapshot.ts';

// Every file-system call of a real-time snapshot pass failed in turn (lib/io-faults), ENOSPC
// and EIO, after a first pass, with one state changed since. After each run: every snapshot
// is byte for byte a version its state file really had (never torn), the earlier snapshots
// are untouched, a file that could not be snapshotted is reported naming the error (or the
// run fails with a named error), and the next pass snapshots the change.

const CHANGED = 'modules/zeroia/state/zeroia_state.toml';
const T0 = new Date('2026-01-10T10:00:00Z');
const T1 = new Date('2026-01-10T10:05:00Z');
const T2 = new Date('2026-01-10T10:10:00Z');

interface World {
  root: string;
  backupDir: string;
}

let templates: Promise<{ root: string; backup: string; versions: Map<string, Set<string>> }> | undefined;
function worldTemplates() {
  templates ??= (async () => {
    const root = await smallRoot();
    const backup = await tempDir('ark-sweep-rt-');
    const first = await runRealtimeSnapshot({
      root,
      backupDir: backup,
      policy: sweepPolicy,
      sink: () => {},
      now: () => T0,
    });
    const versions = new Map<string, Set<string>>();
    for (const w of first.written) versions.set(w.path, new Set([w.sha256]));
    await writeFile(join(root, CHANGED), 'changed = "at 10:04"\n');
    versions.get(CHANGED)!.add(sha256Buffer(await readFile(join(root, CHANGED))));
    return { root, backup, versions };
  })();
  return templates;
}

async function world(): Promise<World> {
  const t = await worldTemplates();
  return { root: await copyRoot(t.root), backupDir: await copyDir(t.backup) };
}

const pass = (w: World, at: Date) =>
  runRealtimeSnapshot({ root: w.root, backupDir: w.backupDir, policy: sweepPolicy, sink: () => {}, now: () => at });

async function invariant({ ctx, code, error }: SweepRun<World>, earlier: Record<string, string>): Promise<void> {
  const { versions } = await worldTemplates();
  const problems: string[] = [];
  const check = async (when: string) => {
    const now = await fingerprint(join(ctx.backupDir, 'realtime'));
    for (const [path, value] of Object.entries(now)) {
      if (path.endsWith('/')) continue;
      const source = path.replace(/\.\d{8}_\d{6}(?:_\d+)?$/, '');
      const sha = value.split(' ')[1]!;
      if (source === path) problems.push(`${when}: ${path} left in realtime/ (not a snapshot)`);
      else if (!versions.get(source)?.has(sha))
        problems.push(`${when}: ${path} is not a version ${source} ever had (torn?)`);
    }
    for (const [path, value] of Object.entries(earlier))
      if (now[path] !== value) problems.push(`${when}: the earlier snapshot ${path} changed or went`);
  };
  await check('after the faulted pass');
  const naming = namingProblem(code, error);
  if (naming) problems.push(naming);
  const again = await pass(ctx, T2).then(
    (r) => r,
    (e: unknown) => e as Error,
  );
  if (again instanceof Error) problems.push(`the next pass failed: ${again.message}`);
  else {
    if (again.totals.failed > 0)
      problems.push(`the next pass could not snapshot ${again.failed.map((f) => f.path).join(', ')}`);
    const { versions: v } = await worldTemplates();
    const want = [...v.get(CHANGED)!][1];
    const now = await fingerprint(join(ctx.backupDir, 'realtime'));
    if (!Object.entries(now).some(([p, value]) => p.startsWith(CHANGED) && value.endsWith(want!)))
      problems.push('after the next pass, the change has no snapshot');
    await check('after the next pass');
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

it('real-time snapshot under I/O faults: never a torn snapshot, earlier ones untouched, named errors, the next pass catches up', {
  timeout: 900_000,
}, async () => {
  const t = await worldTemplates();
  const earlier = await fingerprint(join(t.backup, 'realtime'));
  const probe = await world();
  const clean = await pass(probe, T1);
  expect(clean.written.map((w) => w.path)).toEqual([CHANGED]);
  expect(sameTree(await fingerprint(probe.root), await fingerprint(t.root))).toBe(true);
  await removeCopies(probe.root, probe.backupDir);
  const result = await runSweep<World>({
    name: 'realtime-snapshot',
    codes: ['ENOSPC', 'EIO'],
    setup: world,
    scopes: (w) => [dirname(w.root), w.backupDir],
    teardown: (w) => removeCopies(w.root, w.backupDir),
    run: async (w) => {
      const report = await pass(w, T1);
      // A file it could not snapshot is reported, not thrown: its message must name the error.
      const unnamed = report.failed.filter((f) => !/no space left|i\/o error/i.test(f.message));
      if (unnamed.length > 0)
        throw new Error(`reported without naming the error: ${unnamed.map((f) => f.message).join('; ')}`);
      return report;
    },
    check: (run) => invariant(run, earlier),
  });
  console.log(describeSweep(result));
  expect(result.injected).toBeGreaterThan(20);
});
