import { spawn } from 'node:child_process';
import { REPO_ROOT } from '../lib/testing.ts';
import { scriptCommand } from '../scripts/cli/script-command.ts';

export interface ScriptRunResult {
  script: string;
  argv: string[];
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** stdout parsed as JSON when the script was run with --json and printed valid JSON: the envelope. */
  json: Record<string, unknown> | null;
  /** The envelope's `result` (null when the script stopped on an error, or printed no JSON). */
  result: Record<string, unknown> | null;
}

/**
 * Run an operator script as a subprocess, exactly as an operator would: `ark <command>` runs
 * its bundle (dist/<name>.mjs) while dist/ is fresh, else `npx tsx scripts/<name>.mts ...`
 * (here `node --import tsx`, without npx's start-up): scripts/cli/script-command.ts decides.
 */
export function runOperatorScript(
  script: string,
  args: readonly string[],
  options: {
    timeoutMs: number;
    env?: NodeJS.ProcessEnv /** Aborting SIGKILLs the script (kill-script fault). */;
    signal?: AbortSignal;
  },
): Promise<ScriptRunResult> {
  const command = scriptCommand(REPO_ROOT, script);
  const argv = [command.runs, ...args];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...command.args, ...args], {
      cwd: REPO_ROOT,
      env: drillEnv(options.env ?? process.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal, killSignal: 'SIGKILL' as const } : {}),
    });
    child.on('error', () => {}); // an abort: 'close' still reports the signal
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let json: Record<string, unknown> | null = null;
      try {
        json = args.includes('--json') ? (JSON.parse(stdout) as Record<string, unknown>) : null;
      } catch {
        json = null;
      }
      const result = json?.result;
      resolve({
        script,
        argv,
        exitCode: code,
        signal,
        timedOut,
        stdout,
        stderr,
        durationMs: Date.now() - started,
        json,
        result: result !== null && typeof result === 'object' ? (result as Record<string, unknown>) : null,
      });
    });
  });
}

/**
 * The operator's own settings must not leak into a drill's scripts: a drill's deliberate
 * failures would land in the production metrics textfile, its backups in the real offsite.
 * Scenarios pass what they need explicitly (--metrics-file {work}/..., --to {work}/offsite).
 */
export function drillEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean = { ...env };
  for (const key of [
    'ARK_METRICS_FILE',
    'ARK_ROOT',
    'ARK_BACKUP_DIR',
    'ARK_OFFSITE',
    'ARK_KEYRING',
    'ARK_RECIPIENTS',
    'ARK_PASSPHRASE',
  ])
    delete clean[key];
  return clean;
}

/**
 * Why a script run says it stopped, in one line: its --json envelope's error message, else its
 * last `✗` line on stderr, else a crash's `…Error: …` line, else stderr's last line; undefined when it said nothing.
 */
export function scriptFailureLine(result: Pick<ScriptRunResult, 'json' | 'stderr'>): string | undefined {
  const error = result.json?.error as { message?: unknown } | undefined;
  if (typeof error?.message === 'string') return error.message;
  const lines = result.stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return (
    lines.findLast((line) => line.startsWith('✗')) ?? lines.findLast((line) => /^\w*Error\b/.test(line)) ?? lines.at(-1)
  );
}
