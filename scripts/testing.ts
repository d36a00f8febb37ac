// Test helpers for the operator scripts: run one as an operator would (a subprocess), and
// check what it printed. Not used by the scripts themselves.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect } from 'vitest';
import { sha256Buffer } from '../lib/checksum/index.ts';
import { REPO_ROOT, treeContents } from '../lib/testing.ts';

const TSX = createRequire(import.meta.url).resolve('tsx');

export interface ScriptRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface StartedScript {
  child: ReturnType<typeof spawn>;
  /** Resolves once the script prints ARK_TEST_PAUSED (ARK_TEST_PAUSE_AT set); rejects if it exits first. */
  paused: Promise<void>;
  done: Promise<ScriptRun>;
}

/** scripts/<name>.mts, or a path as given. */
export function scriptPath(nameOrPath: string): string {
  return nameOrPath.includes('/') ? nameOrPath : join(REPO_ROOT, 'scripts', `${nameOrPath}.mts`);
}

/**
 * Start an operator script with Node + tsx, from the repository, with the caller's environment
 * minus every ARK_* and AWS_* variable (a test says what the script sees), plus `env`.
 * Killed after `timeoutMs` (default 90 s).
 */
export function startScript(nameOrPath: string, args: readonly string[], env: Record<string, string> = {}, options: { timeoutMs?: number } = {}): StartedScript {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(base)) if (/^(ARK_|AWS_)/.test(key)) delete base[key];
  const started = Date.now();
  const child = spawn(process.execPath, ['--no-warnings', '--import', TSX, scriptPath(nameOrPath), ...args], {
    cwd: REPO_ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let onPause: () => void = () => {};
  const paused = new Promise<void>((resolve) => (onPause = resolve));
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (stderr.includes('ARK_TEST_PAUSED')) onPause();
  });
  const done = new Promise<ScriptRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
  void done.finally(() => clearTimeout(timer)).catch(() => {});
  const pausedOrExited = Promise.race([paused, done.then((r) => Promise.reject(new Error(`exited (${r.code}) before pausing:\n${r.stderr}`)))]);
  pausedOrExited.catch(() => {}); // only awaited by tests that pause
  return { child, paused: pausedOrExited, done };
}

/** Run an operator script to the end (see startScript). */
export function runScript(nameOrPath: string, args: readonly string[], env: Record<string, string> = {}, options: { timeoutMs?: number } = {}): Promise<ScriptRun> {
  return startScript(nameOrPath, args, env, options).done;
}

/** A bad input is answered with a message, never a stack trace or "unexpected error". */
export function expectNoStackTrace(run: Pick<ScriptRun, 'stderr'>): void {
  expect(run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(run.stderr).not.toMatch(/unexpected error/);
}

/** path → sha256 of every file under `dir` (deep-comparing Buffers of a whole tree is slow in expect). */
export async function digestTree(dir: string): Promise<Record<string, string>> {
  return Object.fromEntries([...(await treeContents(dir))].map(([path, content]) => [path, sha256Buffer(content)]));
}
