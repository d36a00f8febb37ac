import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { copyDir, describeSweep, removeCopies, namingProblem, runSweep, type SweepRun } from '../io-faults/index.ts';
import { verifyBackup } from '../retention/index.ts';
import { makeBackup } from '../retention/testing.ts';
import { tempDir } from '../testing.ts';
import { runPrune } from './prune.ts';

// Every file-system call of a prune failed in turn (lib/io-faults), ENOSPC and EIO, on a
// backup folder whose newest backup is corrupt: the newest that verifies (20261125) must
// survive whatever fails, every backup left either verifies or was already corrupt, and the
// next run finishes the job (deletes exactly what the clean run deletes).

const NOW = () => new Date(2026, 10, 26, 12);
const SPECS = {
  '20261126': 'mismatch',
  '20261125': 'ok',
  '20261027': 'ok',
  '20261026': 'ok',
  '20250101': 'ok',
} as const;
const NEWEST_GOOD = '20261125';

let template: Promise<string> | undefined;
const world = async () => {
  template ??= (async () => {
    const dir = await tempDir('ark-sweep-prune-');
    for (const [date, defect] of Object.entries(SPECS))
      await makeBackup(dir, date, defect === 'ok' ? undefined : defect);
    return dir;
  })();
  return copyDir(await template);
};

const prune = (backupDir: string) => runPrune({ backupDir, retention: { daily_days: 30 }, sink: () => {}, now: NOW });

const dates = async (backupDir: string) =>
  (await readdir(join(backupDir, 'daily')))
    .filter((n) => /^arkalia_\d{8}$/.test(n))
    .map((n) => n.slice(8))
    .sort();

async function invariant({ ctx, code, error }: SweepRun<string>, keptByCleanRun: string[]): Promise<void> {
  const problems: string[] = [];
  const left = await dates(ctx);
  if (!left.includes(NEWEST_GOOD)) problems.push(`the newest verifying backup ${NEWEST_GOOD} was deleted`);
  for (const date of left) {
    const v = await verifyBackup(join(ctx, 'daily', `arkalia_${date}`), date);
    if (!v.ok && SPECS[date as keyof typeof SPECS] === 'ok')
      problems.push(`arkalia_${date} was left half-deleted: ${v.problem}`);
  }
  const naming = namingProblem(code, error);
  if (naming) problems.push(naming);
  const again = await prune(ctx).then(
    () => null,
    (e: unknown) => e,
  );
  if (again !== null) problems.push(`the next run failed: ${again instanceof Error ? again.message : String(again)}`);
  else if ((await dates(ctx)).join() !== keptByCleanRun.join())
    problems.push(`the next run left ${(await dates(ctx)).join(', ')}, not ${keptByCleanRun.join(', ')}`);
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

it('prune under I/O faults: never deletes the newest verifying backup, never half-deletes one, the next run finishes', {
  timeout: 900_000,
}, async () => {
  const probe = await world();
  await prune(probe);
  const kept = await dates(probe);
  expect(kept).toEqual(['20261027', '20261125', '20261126']);
  await removeCopies(probe);
  const result = await runSweep<string>({
    name: 'prune',
    codes: ['ENOSPC', 'EIO'],
    setup: world,
    scopes: (dir) => [dir],
    teardown: (dir) => removeCopies(dir),
    run: prune,
    check: (run) => invariant(run, kept),
  });
  console.log(describeSweep(result));
  expect(result.injected).toBeGreaterThan(20);
});
