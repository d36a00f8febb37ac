import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { CommandSpec } from './measure-command.ts';

// The commands `npm run bench` compares, as argv arrays (bash only for the runbook's own
// shell, with paths passed as positional parameters, never spliced into the script).

export const BENCH_DATE = '20260101';

export interface BenchPaths {
  repo: string;
  /** The Arkalia root of the corpus. */
  root: string;
  /** The folder holding `models/` (the runbook's /var/lib/ollama). */
  modelsParent: string;
  policy: string;
  /** The node that runs our scripts (default: this one) and how (default: 'built'). */
  node?: { path: string; mode: RunMode };
}

/**
 * How our scripts run: 'built', as `ark <script>` runs them (bin/ark.mjs on the bundle
 * `npm run build` made in dist/); or from their TypeScript sources, 'native' as zx runs them
 * on Node >= 22.18 (Node strips the types) or 'tsx' (Node 20).
 */
export type RunMode = 'built' | 'native' | 'tsx';

/** How the runbook's archives are compressed: its own `tar -czf`, or GNU tar with pigz / zstd. */
export type ShellCompressor = 'gzip' | 'pigz' | 'zstd';

const TAR_FLAGS: Record<ShellCompressor, { flag: string[]; ext: string; extract: string[] }> = {
  gzip: { flag: ['-z'], ext: 'tar.gz', extract: ['-z'] },
  pigz: { flag: ['-I', 'pigz -6'], ext: 'tar.gz', extract: ['-I', 'pigz'] },
  zstd: { flag: ['-I', 'zstd -T2 -3'], ext: 'tar.zst', extract: ['-I', 'zstd'] },
};

/** ark_full_backup.sh steps 1-5 (archives + sha256sum), into `out`. Missing files are ignored, as there (2>/dev/null). */
export function runbookBackup(paths: BenchPaths, out: string, compressor: ShellCompressor = 'gzip'): CommandSpec {
  const { flag, ext } = TAR_FLAGS[compressor];
  const script = `
set -u
root=$1; models=$2; out=$3; D=$4; ext=$5; shift 5
cd "$root"
tar "$@" -cf "$out/arkalia_states_$D.$ext" modules/*/state/ state/ global_state/ config/ .env 2>/dev/null
tar "$@" -cf "$out/arkalia_logs_$D.$ext" logs/ modules/*/logs/ 2>/dev/null
if [ -d "$models/models" ]; then tar "$@" -cf "$out/ollama_models_$D.$ext" -C "$models" models/ 2>/dev/null; fi
tar "$@" -cf "$out/arkalia_infra_$D.$ext" docker-compose.yml Dockerfile* scripts/ .github/ requirements.txt pyproject.toml 2>/dev/null
cd "$out" && sha256sum *."$ext" > "checksums_$D.sha256"`;
  return {
    argv: ['bash', '-c', script, 'runbook-backup', paths.root, paths.modelsParent, out, BENCH_DATE, ext, ...flag],
  };
}

/** The disaster-recovery restore: `sha256sum -c`, then `tar -x` of every archive into `target`. */
export function runbookRestore(dir: string, target: string, compressor: ShellCompressor = 'gzip'): CommandSpec {
  const { extract, ext } = TAR_FLAGS[compressor];
  const script = `
set -eu
dir=$1; target=$2; ext=$3; shift 3
cd "$dir"
sha256sum -c --quiet checksums_*.sha256
for f in *."$ext"; do tar "$@" -xf "$f" -C "$target"; done`;
  return { argv: ['bash', '-c', script, 'runbook-restore', dir, target, ext, ...extract] };
}

/**
 * A full-system recovery of the state, the runbook's way: `sha256sum -c` of the states and
 * infra archives, then `tar -xzf` of both into an empty root (what disaster-recovery restores).
 */
export function runbookRecover(dir: string, target: string): CommandSpec {
  const script = `
set -eu
dir=$1; target=$2
cd "$dir"
grep -E ' arkalia_(states|infra)_' checksums_*.sha256 | sha256sum -c --quiet
for f in arkalia_states_*.tar.gz arkalia_infra_*.tar.gz; do tar -xzf "$f" -C "$target"; done`;
  return { argv: ['bash', '-c', script, 'runbook-recover', dir, target] };
}

/**
 * ark_encrypted_backup.sh for each archive: `gpg --encrypt` with gpg's defaults (which
 * compress again) or with `--compress-algo none`, then its "verification" (decrypt | sha256sum).
 */
export function runbookEncrypt(
  dir: string,
  outDir: string,
  gnupgHome: string,
  recipient: string,
  files: readonly string[],
  compress: boolean,
): CommandSpec {
  const script = `
set -eu
dir=$1; out=$2; recipient=$3; compress=$4; shift 4
for f in "$@"; do
  if [ "$compress" = yes ]; then extra=""; else extra="--compress-algo none"; fi
  gpg --batch --yes --trust-model always $extra --encrypt --recipient "$recipient" --output "$out/$f.gpg" "$dir/$f"
  gpg --batch --quiet --decrypt "$out/$f.gpg" 2>/dev/null | sha256sum > "$out/$f.verify"
done`;
  return {
    argv: ['bash', '-c', script, 'runbook-encrypt', dir, outDir, recipient, compress ? 'yes' : 'no', ...files],
    env: { ...process.env, GNUPGHOME: gnupgHome },
  };
}

/**
 * Our operator script (`full-backup.mts`), as an operator runs it: through `ark` by default;
 * `sources` runs the TypeScript source whatever the mode (the bench's own child, not a command).
 */
export function oursScript(
  paths: BenchPaths,
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  { sources = false } = {},
): CommandSpec {
  const clean = { ...process.env };
  for (const key of ['ARK_ROOT', 'ARK_BACKUP_DIR', 'ARK_DEBUG', 'ARK_TAR', 'ARK_FROM_SOURCES']) delete clean[key];
  const node = paths.node ?? { path: process.execPath, mode: 'built' };
  const mode = sources && node.mode === 'built' ? (nativeTypeScript(node.path) ? 'native' : 'tsx') : node.mode;
  const source = join(paths.repo, 'scripts', script);
  const argv = {
    built: [node.path, join(paths.repo, 'bin', 'ark.mjs'), script.replace(/\.mts$/, ''), ...args],
    native: [node.path, source, ...args],
    tsx: [node.path, '--import', 'tsx', source, ...args],
  }[mode];
  return {
    argv,
    cwd: paths.repo,
    env: { ...clean, ...env },
  };
}

/** Whether that node runs .mts files itself (>= 22.18). */
export function nativeTypeScript(nodePath: string): boolean {
  const result = spawnSync(nodePath, ['--version'], { encoding: 'utf8' });
  const m = /^v(\d+)\.(\d+)/.exec(result.stdout ?? '');
  if (result.status !== 0 || !m) throw new Error(`${nodePath}: not a node binary (${result.stderr || result.error})`);
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 22 || (major === 22 && minor >= 18);
}

export function oursBackup(
  paths: BenchPaths,
  backupDir: string,
  env: NodeJS.ProcessEnv = {},
  policy = paths.policy,
): CommandSpec {
  return oursScript(
    paths,
    'full-backup.mts',
    ['--root', paths.root, '--backup-dir', backupDir, '--policy', policy, '--date', BENCH_DATE, '--no-prune'],
    env,
  );
}

export function resticEnv(repo: string, cache: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    RESTIC_REPOSITORY: repo,
    RESTIC_PASSWORD: 'arkalia-bench-not-a-secret',
    RESTIC_CACHE_DIR: cache,
  };
}

export function resticBackup(paths: BenchPaths, env: NodeJS.ProcessEnv): CommandSpec {
  return {
    argv: ['restic', 'backup', '--quiet', '--host', 'bench', paths.root, join(paths.modelsParent, 'models')],
    env,
  };
}

export function resticRestore(target: string, env: NodeJS.ProcessEnv): CommandSpec {
  return { argv: ['restic', 'restore', 'latest', '--quiet', '--target', target], env };
}
