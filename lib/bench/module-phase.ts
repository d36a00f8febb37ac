import { spawnSync } from 'node:child_process';
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freshDir } from './bench-files.ts';
import { type FromBackupPhase, restoreArgs } from './from-backup-phase.ts';
import { oursScript } from './scenarios.ts';

// The bench's "module" phase (issue 17, item 4): `emergency-restore` of one module's state
// (the module with the most state files) on a healthy root where one of its state files is
// corrupted (`--services none`: no containers), timed beside the runbook's way of getting
// that folder out of the same backup (ark_emergency_restore.sh: `sha256sum -c` of the states
// archive, then `tar -xzf <archive> modules/<m>/state/`). Afterwards the module's restored
// folder must equal the corpus's (`diff -r`).

const PHASE = 'module';

/** The module of the corpus with the most state files. */
export async function biggestModule(root: string): Promise<{ name: string; files: number }> {
  let best = { name: '', files: -1 };
  for (const name of (await readdir(join(root, 'modules'))).sort()) {
    const files = (await readdir(join(root, 'modules', name, 'state')).catch(() => [])).length;
    if (files > best.files) best = { name, files };
  }
  if (best.files <= 0) throw new Error(`no module with a state folder under ${join(root, 'modules')}`);
  return best;
}

/** ark_emergency_restore.sh's extraction of one module: the states archive's checksum, then its modules/<m>/state/ into `target`. */
export function runbookModule(daily: string, target: string, module: string) {
  const script = `
set -eu
dir=$1; target=$2; m=$3
cd "$dir"
grep -E ' arkalia_states_' checksums_*.sha256 | sha256sum -c --quiet
tar -xzf arkalia_states_*.tar.gz -C "$target" "modules/$m/state/"`;
  return { argv: ['bash', '-c', script, 'runbook-module', daily, target, module] };
}

/** One run of the phase; returns null when the restored module equals the corpus's, else what differs. */
export async function runModulePhase(options: FromBackupPhase): Promise<string | null> {
  const { paths, dir, record, run } = options;
  const module = await biggestModule(paths.root);
  const runbookTarget = await freshDir(join(dir, `runbook-${run}`));
  await record(
    PHASE,
    `runbook: sha256sum -c + tar -xzf modules/${module.name}/state/`,
    true,
    runbookModule(options.daily, runbookTarget, module.name),
    null,
  );
  // A healthy root holding that module, one of its state files corrupted (set up untimed).
  const root = join(dir, `root-${run}`);
  await rm(root, { recursive: true, force: true });
  const live = join(root, 'modules', module.name, 'state');
  await mkdir(join(root, 'modules', module.name), { recursive: true });
  await cp(join(paths.root, 'modules', module.name, 'state'), live, { recursive: true, preserveTimestamps: true });
  const victim = (await readdir(live)).sort()[0]!;
  await writeFile(join(live, victim), 'corrupted = {[\n');
  await record(
    PHASE,
    `arkalia-dr emergency-restore ${module.name} --services none`,
    false,
    oursScript(paths, 'emergency-restore.mts', [module.name, ...restoreArgs(root, options)]),
    null,
    `${module.files} state files: verify, stage, validate, journaled swap`,
  );
  const diff = spawnSync('diff', ['-r', '-q', join(paths.root, 'modules', module.name, 'state'), live], {
    encoding: 'utf8',
  });
  return diff.status === 0 ? null : (diff.stdout || diff.stderr).trim().split('\n').slice(0, 3).join(' | ');
}
