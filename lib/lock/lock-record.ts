import { readFile } from 'node:fs/promises';
import type { ProcessIdentity } from './process-identity.ts';

// The lock file's content: who holds it, since when, doing what. JSON, one object, written
// whole before the file gets its name (see create-exclusive.ts), so a reader never sees half.

export interface LockRecord extends ProcessIdentity {
  /** Random, unique per acquisition: tells this holding apart from any later one. */
  token: string;
  /** ISO-8601 time the lock was taken. */
  since: string;
  /** The command line that holds it, e.g. "full-backup.mts --date 20261126" (never holds secrets: they never go on argv). */
  command: string;
}

export type LockFileState =
  | { kind: 'absent' }
  | { kind: 'record'; record: LockRecord }
  | { kind: 'unreadable'; reason: string };

const TOOL = 'arkalia-dr';

export function formatLockRecord(record: LockRecord): string {
  const onDisk = {
    tool: TOOL,
    pid: record.pid,
    host: record.host,
    since: record.since,
    command: record.command,
    token: record.token,
    boot_id: record.bootId,
    pid_namespace: record.pidNamespace,
    process_start_ticks: record.startTicks,
  };
  return `${JSON.stringify(onDisk, null, 2)}\n`;
}

export function parseLockRecord(text: string): LockRecord | null {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null || raw.tool !== TOOL) return null;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const pid = raw.pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return null;
  const host = str(raw.host);
  const token = str(raw.token);
  const since = str(raw.since);
  if (host === null || token === null || since === null) return null;
  return {
    pid,
    host,
    token,
    since,
    command: str(raw.command) ?? '',
    bootId: str(raw.boot_id),
    pidNamespace: str(raw.pid_namespace),
    startTicks: str(raw.process_start_ticks),
  };
}

export async function readLockFile(path: string): Promise<LockFileState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'absent' };
    return { kind: 'unreadable', reason: `cannot be read: ${code ?? String(error)}` };
  }
  const record = parseLockRecord(text);
  if (record) return { kind: 'record', record };
  return {
    kind: 'unreadable',
    reason: `is not an arkalia-dr lock record (${text.length === 0 ? 'empty' : JSON.stringify(text.slice(0, 60))})`,
  };
}

/** "pid 4242 on host backup-1 since 2026-11-26T03:00:00.000Z (12 min ago), command: full-backup.mts" */
export function describeHolder(record: LockRecord, now: Date): string {
  const since = Date.parse(record.since);
  const ago = Number.isNaN(since) ? '' : ` (${formatAgo(now.getTime() - since)})`;
  return `pid ${record.pid} on host ${record.host} since ${record.since}${ago}, command: ${record.command || '(unknown)'}`;
}

export function formatAgo(ms: number): string {
  if (ms < 0) return 'in the future';
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s ago`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} min ago`;
  const h = Math.round(min / 60);
  return h < 48 ? `${h} h ago` : `${Math.round(h / 24)} days ago`;
}
