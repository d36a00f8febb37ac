import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GNU_TIME } from './measure-command.ts';
import { BENCH_DATE } from './scenarios.ts';

// What the bench's phases share about folders and tools: a fresh output folder, the daily
// folder of one of our backups, the size of what a command wrote, which tools are installed,
// and whether GNU tools still read what we wrote.

/** The tools a row needs; a missing one drops its rows, never fails the bench. */
export interface BenchTools {
  gnuTar: boolean;
  pigz: boolean;
  zstd: boolean;
  gpg: boolean;
  restic: boolean;
  /** GNU time (peak RSS); without it, /proc VmHWM is sampled. */
  time: boolean;
}

export function detectTools(): BenchTools {
  return {
    gnuTar: /GNU tar/.test(toolVersion('tar')),
    pigz: has('pigz'),
    zstd: has('zstd'),
    gpg: has('gpg'),
    restic: has('restic'),
    time: existsSync(GNU_TIME),
  };
}

/** `command --version`'s output, or '' when it is not installed. */
export function toolVersion(command: string): string {
  const result = spawnSync(command, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout : '';
}

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** `dir`, emptied (created when missing). */
export async function freshDir(dir: string): Promise<string> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

/** The daily folder full-backup writes under `backupDir` for the bench's date. */
export function dailyOf(backupDir: string): string {
  return join(backupDir, 'daily', `arkalia_${BENCH_DATE}`);
}

/** Bytes of the files under `path` (0 when it is missing). */
export async function treeBytes(path: string): Promise<number> {
  const info = await stat(path).catch(() => null);
  if (info === null) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const name of await readdir(path)) total += await treeBytes(join(path, name));
  return total;
}

/** `12.3 MiB` under 10 MiB, `123 MiB` above. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MiB`;
}

/** Whether `gzip -t` and `tar -tzf` accept every .tar.gz in `dir`: "yes (N archives)", "NO: …" or "not checked". */
export async function checkGnuReadable(dir: string): Promise<string> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const gz = names.filter((n) => n.endsWith('.tar.gz'));
  if (gz.length === 0) return 'not checked (no backup)';
  for (const name of gz) {
    for (const argv of [
      ['gzip', '-t', name],
      ['tar', '-tzf', name],
    ]) {
      const result = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      if (result.status !== 0) return `NO: ${argv.join(' ')} failed: ${result.stderr.toString().trim()}`;
    }
  }
  return `yes (${gz.length} archives)`;
}
