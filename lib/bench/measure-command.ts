import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Runs one command and measures it: wall time, CPU (user + sys of the command and its
// children), and peak RSS. With GNU time (/usr/bin/time) the numbers come from the kernel's
// rusage; without it, peak RSS is sampled from /proc/<pid>/status (VmHWM) every 20 ms, which
// sees the process itself, not its children.

export interface Measurement {
  wallMs: number;
  cpuMs: number | null;
  /** Peak resident set size of the largest process of the command, in bytes. */
  maxRssBytes: number | null;
  rssSource: 'time' | 'proc' | null;
  code: number | null;
  stderr: string;
}

export interface CommandSpec {
  argv: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export const GNU_TIME = '/usr/bin/time';

export async function measureCommand(spec: CommandSpec, options: { useTime?: boolean } = {}): Promise<Measurement> {
  const useTime = options.useTime ?? existsSync(GNU_TIME);
  const scratch = await mkdtemp(join(tmpdir(), 'ark-bench-time-'));
  const timeFile = join(scratch, 'time');
  const argv = useTime ? [GNU_TIME, '-f', '%e %U %S %M', '-o', timeFile, ...spec.argv] : [...spec.argv];
  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-8000);
  });
  let hwm = 0;
  const sampler = useTime
    ? null
    : setInterval(() => void sampleHwm(child.pid).then((kb) => (hwm = Math.max(hwm, kb))), 20);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  const wallMs = performance.now() - started;
  if (sampler) clearInterval(sampler);
  let cpuMs: number | null = null;
  let maxRssBytes: number | null = hwm > 0 ? hwm * 1024 : null;
  if (useTime) {
    const text = await readFile(timeFile, 'utf8').catch(() => '');
    const m = /(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)\s*$/.exec(text.trim());
    if (m) {
      cpuMs = (Number(m[2]) + Number(m[3])) * 1000;
      maxRssBytes = Number(m[4]) * 1024;
    }
  }
  await rm(scratch, { recursive: true, force: true });
  return {
    wallMs,
    cpuMs,
    maxRssBytes,
    rssSource: useTime ? 'time' : maxRssBytes === null ? null : 'proc',
    code,
    stderr,
  };
}

async function sampleHwm(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
}
