import { spawn } from 'node:child_process';

// Several commands at once, their output interleaved line by line, each line led by the
// command's name, so that two vitest runs (`npm test`: scripts/cli/run-tests.ts) read as
// one log. A line is written whole, never cut by the other command's output.

export interface Job {
  name: string;
  command: string;
  args: readonly string[];
}

export interface JobResult {
  name: string;
  /** The exit code; null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
}

/** Writes `chunk`'s complete lines, each after `prefix`; returns what is left of an unfinished last line. */
export function prefixLines(pending: string, chunk: string, prefix: string, write: (text: string) => void): string {
  const text = pending + chunk;
  const end = text.lastIndexOf('\n');
  if (end < 0) return text;
  write(
    text
      .slice(0, end + 1)
      .split(/(?<=\n)/)
      .map((line) => prefix + line)
      .join(''),
  );
  return text.slice(end + 1);
}

/**
 * Run the jobs at once (stdout and stderr of each to `write`, line by line, `<name> │ `
 * first); resolves when all have ended. A SIGTERM is passed on to every job.
 */
export async function runSideBySide(
  jobs: readonly Job[],
  write: (text: string) => void = (t) => process.stdout.write(t),
): Promise<JobResult[]> {
  const width = Math.max(...jobs.map((j) => j.name.length));
  const children = jobs.map((job) => {
    const started = Date.now();
    const child = spawn(job.command, job.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const prefix = `${job.name.padEnd(width)} │ `;
    const streams = [child.stdout, child.stderr].map((stream) => {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (pending = prefixLines(pending, chunk, prefix, write)));
      return () => {
        if (pending) write(`${prefix}${pending}\n`);
        pending = '';
      };
    });
    const done = new Promise<JobResult>((resolve) => {
      child.on('error', (error) => {
        write(`${prefix}✗ could not start ${job.command}: ${error.message}\n`);
        resolve({ name: job.name, code: 127, signal: null, ms: Date.now() - started });
      });
      child.on('close', (code, signal) => {
        for (const flush of streams) flush();
        resolve({ name: job.name, code, signal, ms: Date.now() - started });
      });
    });
    return { child, done };
  });
  // Ctrl-C reaches every job from the terminal already (one process group): this process only
  // outlives them, to report how each ended. A SIGTERM sent to this process alone is passed on.
  const onInt = () => {};
  const onTerm = () => {
    for (const { child } of children) child.kill('SIGTERM');
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await Promise.all(children.map((c) => c.done));
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
