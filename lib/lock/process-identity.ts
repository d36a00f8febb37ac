import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

// Who holds a lock, precisely enough to tell on this host whether that process still runs:
// a pid alone is not enough (pids are reused, and a container has its own pid numbers).

export interface ProcessIdentity {
  pid: number;
  host: string;
  /** /proc/sys/kernel/random/boot_id: changes when the machine restarts. Null off Linux. */
  bootId: string | null;
  /** /proc/self/ns/pid, e.g. "pid:[4026531836]": pids mean nothing across namespaces. Null off Linux. */
  pidNamespace: string | null;
  /** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot): tells a reused pid apart. */
  startTicks: string | null;
}

/** How to look at other processes: the real one reads /proc and signals; tests pass a fake. */
export interface ProcessProbe {
  /** False only when the pid certainly does not exist (ESRCH). */
  exists(pid: number): boolean;
  startTicks(pid: number): string | null;
}

export type Liveness = { state: 'alive' } | { state: 'dead'; reason: string } | { state: 'unknown'; reason: string };

export const systemProbe: ProcessProbe = {
  exists(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code !== 'ESRCH'; // EPERM: it exists, owned by someone else
    }
  },
  startTicks: readStartTicks,
};

/**
 * Whether a process with this pid exists on this host now (EPERM: it does, owned by someone
 * else). The one liveness test for the pid in a temp or partial name left by a crashed run.
 */
export function processExists(pid: number): boolean {
  return systemProbe.exists(pid);
}

export function currentProcess(): ProcessIdentity {
  return {
    pid: process.pid,
    host: hostname(),
    bootId: readTrimmed('/proc/sys/kernel/random/boot_id'),
    pidNamespace: readLink('/proc/self/ns/pid'),
    startTicks: readStartTicks(process.pid),
  };
}

/**
 * Is the process that wrote `holder` still running? Only ever "dead" when that is certain from
 * here: same host, same boot, same pid namespace, and the pid is gone or now names a process
 * that started at another time. Another host or namespace is "unknown": never judged dead.
 */
export function processLiveness(
  holder: ProcessIdentity,
  self: ProcessIdentity,
  probe: ProcessProbe = systemProbe,
): Liveness {
  if (holder.host !== self.host) return { state: 'unknown', reason: `it runs on another host (${holder.host})` };
  if (holder.bootId && self.bootId && holder.bootId !== self.bootId)
    return { state: 'dead', reason: `${self.host} has restarted since pid ${holder.pid} took it` };
  if (holder.pidNamespace && self.pidNamespace && holder.pidNamespace !== self.pidNamespace) {
    return {
      state: 'unknown',
      reason: `it runs in another PID namespace on ${holder.host} (a container?), where pid ${holder.pid} cannot be checked from here`,
    };
  }
  if (!probe.exists(holder.pid)) return { state: 'dead', reason: `process ${holder.pid} no longer exists` };
  if (holder.startTicks !== null) {
    const now = probe.startTicks(holder.pid);
    if (now !== null && now !== holder.startTicks)
      return { state: 'dead', reason: `pid ${holder.pid} now belongs to another process` };
  }
  return { state: 'alive' };
}

function readStartTicks(pid: number): string | null {
  const stat = readTrimmed(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = fields[19]; // field 22 overall; fields[0] is field 3 (state)
  return ticks !== undefined && /^\d+$/.test(ticks) ? ticks : null;
}

function readTrimmed(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim() || null;
  } catch {
    return null;
  }
}

function readLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}
