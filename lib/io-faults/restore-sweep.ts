import { cp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runFullBackup } from '../pipeline/backup.ts';
import { disasterRecovery } from '../pipeline/disaster-recovery.ts';
import { noneController } from '../services/index.ts';
import { samplePolicy } from '../policy/testing.ts';
import { tempDir } from '../testing.ts';
import { differences, fingerprint, sameTree } from './fingerprint.ts';
import { copyDir, copyRoot, removeCopies, smallRoot } from './small-root.ts';
import { namingProblem, runSweep, type SweepResult, type SweepRun, type SweepSpec } from './sweep.ts';

// The I/O-fault sweep of the restore pipeline: each file-system call of a restore into a
// root that differs from the backup, failed in turn with ENOSPC (the disk stays full) and
// EIO (once). After each failed run the live tree is exactly as before or exactly as
// restored (never a mix), the error is named (never "unexpected", and it says what failed),
// and the same command, run again once the fault is gone, succeeds and restores the tree.

export const sweepPolicy = samplePolicy();

/** The full-system recovery the disaster-recovery sweeps run (services: none). */
export const recoverSystem = (w: RestoreWorld) =>
  disasterRecovery({
    root: w.root,
    backupDir: w.backupDir,
    policy: sweepPolicy,
    services: noneController,
    sink: () => {},
  });

export interface RestoreWorld {
  root: string;
  backupDir: string;
}

let templates: Promise<{ backup: string; damaged: string }> | undefined;

/** Once per test file: a backup of the small root, and a copy of that root damaged. */
function restoreTemplates(): Promise<{ backup: string; damaged: string }> {
  templates ??= (async () => {
    const root = await smallRoot();
    const backup = await tempDir('ark-sweep-bk-');
    await runFullBackup({
      root,
      backupDir: backup,
      date: '20260110',
      policy: sweepPolicy,
      sink: () => {},
      gitCommit: async () => null,
      host: 'test',
    });
    const damaged = join(await tempDir('ark-sweep-damaged-'), 'arkalia-luna-pro'); // removed with the test file's temp folders
    await cp(root, damaged, { recursive: true, preserveTimestamps: true });
    return { backup, damaged: await damage(damaged) };
  })();
  return templates;
}

/** Zeroia's state and config corrupted, state files lost, one added. */
async function damage(root: string): Promise<string> {
  await writeFile(join(root, 'modules/zeroia/state/zeroia_state.toml'), 'broken = = 1\n');
  await rm(join(root, 'modules/zeroia/state/zeroia_decision_log.toml'));
  await writeFile(join(root, 'modules/zeroia/state/stray.toml'), 'stray = true\n');
  await writeFile(join(root, 'config/zeroia_config.toml'), '[zeroia\n');
  await rm(join(root, 'state/zeroia_snapshot.toml'));
  return root;
}

/** A copy of the damaged root beside a copy of its backup. */
async function damagedWorld(): Promise<RestoreWorld> {
  const { backup, damaged } = await restoreTemplates();
  return { root: await copyRoot(damaged), backupDir: await copyDir(backup) };
}

/** The invariant after one faulted run; throws naming every broken promise. */
function restoreInvariant(
  operation: (w: RestoreWorld) => Promise<unknown>,
  states: { before: Record<string, string>; after: Record<string, string> },
) {
  return async ({ ctx, code, error }: SweepRun<RestoreWorld>): Promise<void> => {
    const problems: string[] = [];
    const now = await fingerprint(ctx.root);
    if (!sameTree(now, states.before) && !sameTree(now, states.after)) {
      const mixed = differences(now, states.before).filter((k) => now[k] !== states.after[k]);
      problems.push(`the live tree is neither as before nor as restored: ${mixed.slice(0, 8).join(', ')}`);
    }
    const naming = namingProblem(code, error);
    if (naming) problems.push(naming);
    // The fault is gone: the same command succeeds, with no manual step.
    const again = await operation(ctx).then(
      () => null,
      (e: unknown) => e,
    );
    if (again !== null) problems.push(`the next run failed: ${again instanceof Error ? again.message : String(again)}`);
    else if (!sameTree(await fingerprint(ctx.root), states.after))
      problems.push('the next run did not restore the tree');
    if (problems.length > 0) throw new Error(problems.join('\n'));
  };
}

/** Sweep a restore command over every file-system call (ARK_SWEEP=full) or a sample of them. */
export async function sweepRestore(
  name: string,
  operation: (w: RestoreWorld) => Promise<unknown>,
  pick?: SweepSpec<RestoreWorld>['pick'],
): Promise<SweepResult> {
  const probe = await damagedWorld();
  const before = await fingerprint(probe.root);
  await operation(probe);
  const after = await fingerprint(probe.root);
  await removeCopies(probe.root, probe.backupDir);
  if (sameTree(before, after)) throw new Error(`${name}: the clean run changed nothing: nothing to sweep`);
  return runSweep<RestoreWorld>({
    name,
    codes: ['ENOSPC', 'EIO'],
    setup: damagedWorld,
    scopes: (w) => [dirname(w.root), w.backupDir],
    run: operation,
    check: restoreInvariant(operation, { before, after }),
    teardown: (w) => removeCopies(w.root, w.backupDir),
    ...(pick ? { pick } : {}),
  });
}
