// Test helpers for the operator scripts: run one as an operator would (a subprocess), and
// check what it printed. Not used by the scripts themselves.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { sha256Buffer } from '../lib/checksum/index.ts';
import { inCheckout, REPO_ROOT, treeContents, type ReadableCheckout } from '../lib/testing.ts';
import { type JsonEnvelope, nonSnakeKeys } from './cli/json-envelope.ts';
import { scriptCommand, TSX } from './cli/script-command.ts';

const ZX_CLI = join(REPO_ROOT, 'node_modules', 'zx', 'build', 'cli.js');

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
  /** What it has printed on stderr so far (to wait for a line while it runs). */
  stderr: () => string;
}

export interface ScriptOptions {
  /** Killed with SIGKILL after this long (default 90 s). */
  timeoutMs?: number;
  /** Working folder (default the repository). */
  cwd?: string;
  /**
   * Run as this user id, with the group id of the same number (a test running as root uses
   * 65534), from `checkout` (checkoutReadableBy(uid)): the checkout itself may be closed to them.
   */
  as?: { uid: number; checkout: ReadableCheckout };
  /** Through zx's CLI (argv = node cli.js script.mts ...), as `zx scripts/<name>.mts` runs it. */
  viaZx?: boolean;
}

/** scripts/<name>.mts, or a path as given. */
export function scriptPath(nameOrPath: string): string {
  return nameOrPath.includes('/') ? nameOrPath : join(REPO_ROOT, 'scripts', `${nameOrPath}.mts`);
}

/**
 * Start an operator script with Node (its bundle while dist/ is fresh, else the sources with
 * tsx: script-command.ts), from the repository (or `options.cwd`), with the
 * caller's environment minus every ARK_* and AWS_* variable (a test says what the script sees),
 * plus `env`. Killed after `options.timeoutMs` (default 90 s).
 */
export function startScript(
  nameOrPath: string,
  args: readonly string[],
  env: Record<string, string> = {},
  options: ScriptOptions = {},
): StartedScript {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(base)) if (/^(ARK_|AWS_)/.test(key)) delete base[key];
  const started = Date.now();
  const as = options.as;
  const at = (path: string) => (as ? inCheckout(path, as.checkout) : path);
  // A named script runs as `ark` would run it (its bundle while dist/ is fresh: script-command.ts).
  const entry =
    options.viaZx || nameOrPath.includes('/')
      ? ['--import', at(TSX), ...(options.viaZx ? [at(ZX_CLI)] : []), at(scriptPath(nameOrPath))]
      : scriptCommand(as ? as.checkout.repo : REPO_ROOT, nameOrPath, { tsx: at(TSX) }).args;
  const child = spawn(as ? as.checkout.node : process.execPath, ['--no-warnings', ...entry, ...args], {
    cwd: options.cwd ?? at(REPO_ROOT),
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(as ? { uid: as.uid, gid: as.uid } : {}),
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
  const pausedOrExited = Promise.race([
    paused,
    done.then((r) => Promise.reject(new Error(`exited (${r.code}) before pausing:\n${r.stderr}`))),
  ]);
  pausedOrExited.catch(() => {}); // only awaited by tests that pause
  return { child, paused: pausedOrExited, done, stderr: () => stderr };
}

/** Run an operator script to the end (see startScript). */
export function runScript(
  nameOrPath: string,
  args: readonly string[],
  env: Record<string, string> = {},
  options: ScriptOptions = {},
): Promise<ScriptRun> {
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

/**
 * The --json envelope a command printed on stdout, held to the contract (json-envelope.ts):
 * exactly its seven keys, `exit_code` the process's, `ok` whether it is 0, snake_case at
 * every depth, `error` and `result` never both set. Every command's tests read their JSON
 * through it: that is each command's shape test.
 */
export function envelopeOf(run: Pick<ScriptRun, 'code' | 'stdout'>, command?: string): JsonEnvelope {
  const envelope = JSON.parse(run.stdout) as JsonEnvelope;
  expect(Object.keys(envelope)).toEqual(['ok', 'exit_code', 'command', 'duration_ms', 'policy', 'error', 'result']);
  expect(envelope.exit_code).toBe(run.code);
  expect(envelope.ok).toBe(run.code === 0);
  if (command !== undefined) expect(envelope.command).toBe(command);
  expect(typeof envelope.duration_ms).toBe('number');
  expect(envelope.policy === null || typeof envelope.policy === 'string').toBe(true);
  expect(envelope.error === null || envelope.result === null).toBe(true);
  if (envelope.error) expect(envelope.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
  expect(nonSnakeKeys(envelope)).toEqual([]);
  return envelope;
}

/** The envelope's result (see envelopeOf), for a command that ran to its end. */
export function resultOf(run: Pick<ScriptRun, 'code' | 'stdout'>, command?: string): Record<string, any> {
  const { result } = envelopeOf(run, command);
  expect(result).not.toBeNull();
  return result!;
}
