import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CommandSpec, measureCommand } from './measure-command.ts';
import { BENCH_DATE, type BenchPaths, oursScript, resticBackup, resticEnv } from './scenarios.ts';

// The bench's "points" phase (issue 14's figures): a backup right after a backup with nothing
// changed (si modifiés: every archive a hard link), an hourly recovery point after one
// database file changed, both against the first backup into an empty folder, and restic's
// second backup of the same tree in the same run; then what seven unchanged points use on
// disk against one, as du counts it (each inode once).

/** How the bench records one timed command (scripts/bench.mts): its phase, tool, whether it is the baseline. */
export type RecordRun = (
  phase: string,
  tool: string,
  baseline: boolean,
  spec: CommandSpec,
  output: string | null,
  note?: string,
) => Promise<void>;

export interface PointsPhaseOptions {
  paths: BenchPaths;
  /** A fresh folder for our points and restic's repository. */
  dir: string;
  record: RecordRun;
  restic: { cache: string } | null;
  /** The run number: the space figure is measured in the first run only. */
  run: number;
}

export interface PointsSpace {
  points: number;
  oneBytes: number;
  allBytes: number;
}

const PHASE = 'points';

/** `--date` for the n-th backup after BENCH_DATE (each an unchanged point of its own date). */
function dayAfter(n: number): string {
  const d = new Date(Date.UTC(2026, 0, 1 + n));
  return d.toISOString().slice(0, 10).replaceAll('-', '');
}

export async function runPointsPhase(options: PointsPhaseOptions): Promise<PointsSpace | null> {
  const { paths, dir, record } = options;
  await rm(dir, { recursive: true, force: true });
  const backupDir = join(dir, 'ours');
  const backup = (date: string, extra: string[] = []) =>
    oursScript(paths, 'full-backup.mts', [
      '--root',
      paths.root,
      '--backup-dir',
      backupDir,
      '--policy',
      paths.policy,
      '--date',
      date,
      '--no-prune',
      ...extra,
    ]);
  await record(PHASE, 'arkalia-dr full-backup, first (empty folder)', true, backup(BENCH_DATE), null);
  await record(
    PHASE,
    'arkalia-dr full-backup right after, nothing changed',
    false,
    backup(dayAfter(1)),
    null,
    'every archive verified (hashed, or unchanged since hashed today), then hard-linked',
  );
  if (options.restic) {
    const repo = join(dir, 'restic');
    const env = resticEnv(repo, options.restic.cache);
    execFileSync('restic', ['init', '--quiet'], { env, stdio: 'ignore' });
    await record(PHASE, 'restic backup, first (fresh repository)', false, resticBackup(paths, env), null);
    await record(PHASE, 'restic backup right after, nothing changed', false, resticBackup(paths, env), null);
  }
  let space: PointsSpace | null = null;
  if (options.run === 1) {
    for (let n = 2; n <= 6; n += 1) await measureQuietly(backup(dayAfter(n)));
    space = {
      points: 7,
      oneBytes: du(join(backupDir, 'daily', `arkalia_${BENCH_DATE}`)),
      allBytes: du(join(backupDir, 'daily')),
    };
  }
  // An hourly point: one database file (state/*.json) changed since the last point.
  const database = join(paths.root, 'state', 'bench_hourly.json');
  const before = await readFile(database, 'utf8').catch(() => null);
  await writeFile(database, `${JSON.stringify({ changed_at: new Date().toISOString() })}\n`);
  try {
    await record(
      PHASE,
      'arkalia-dr full-backup --point, one database file changed',
      false,
      backup(dayAfter(6), ['--point']),
      null,
      'states archive written again (its unchanged runs copied from the previous point), the others linked',
    );
  } finally {
    if (before === null) await rm(database, { force: true });
    else await writeFile(database, before);
  }
  return space;
}

/** `du -s -B1`: bytes on disk, each hard-linked inode counted once. */
function du(path: string): number {
  return Number(execFileSync('du', ['-s', '-B1', path], { encoding: 'utf8' }).split('\t')[0]);
}

async function measureQuietly(spec: CommandSpec): Promise<void> {
  const result = await measureCommand(spec);
  if (result.code !== 0)
    throw new Error(`${spec.argv.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
}
