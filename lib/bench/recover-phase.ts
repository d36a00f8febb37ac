import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freshDir } from './bench-files.ts';
import { type FromBackupPhase, restoreArgs } from './from-backup-phase.ts';
import { oursScript, runbookRecover } from './scenarios.ts';

// The bench's "recover" phase (issue 17, item 2): the state, configs and infra recovered into
// an empty root, by the runbook (`sha256sum -c`, then `tar -xzf` of the states and infra
// archives) and by `disaster-recovery --services none`, from the same archives (ours are
// GNU-readable, with a sha256sum file): only the tools differ. Each run into new empty roots,
// removed only at the end of the bench (a deletion right before would slow every create:
// quiet-disk.ts). Afterwards the two roots must be identical (`diff -r`).

/** One run of the phase; returns null when the recovered root equals the runbook's, else what differs. */
export async function runRecoverPhase(options: FromBackupPhase): Promise<string | null> {
  const { dir, record, run } = options;
  const root = (name: string) => freshDir(join(dir, `${name}-${run}`));
  const runbookRoot = await root('runbook');
  await record(
    'recover',
    'runbook: sha256sum -c + tar -xzf (states, infra)',
    true,
    runbookRecover(options.daily, runbookRoot),
    null,
  );
  const oursRoot = await root('ours');
  await record(
    'recover',
    'arkalia-dr disaster-recovery --services none',
    false,
    oursScript(options.paths, 'disaster-recovery.mts', restoreArgs(oursRoot, options)),
    null,
    'verify, stage, validate, journaled swap, pre-start checks',
  );
  const diff = spawnSync('diff', ['-r', '-q', runbookRoot, oursRoot], { encoding: 'utf8' });
  return diff.status === 0 ? null : (diff.stdout || diff.stderr).trim().split('\n').slice(0, 3).join(' | ');
}
