// Names of snapshot files: `<live file name>.<YYYYMMDD_HHMMSS>` as the runbook wrote them
// (`date +%Y%m%d_%H%M%S`, local time), plus `_NNN` when one file is snapshotted twice in the
// same second. Names sort like the snapshots were taken: `…_120000` < `…_120000_001` < `…_120001`.

export interface SnapshotName {
  /** The live file's name, e.g. `zeroia_state.toml`. */
  base: string;
  /** `YYYYMMDD_HHMMSS` */
  stamp: string;
  /** 0 for the first snapshot of that second, then 1, 2, … (`_001`, `_002`). */
  seq: number;
  /** The stamp read as local time. */
  takenAt: Date;
}

export const MAX_SEQ = 999;

const NAME = /^(?!\.)(.+)\.(\d{8}_\d{6})(?:_(\d{3}))?$/;
const RUNBOOK_TEMP_BASE = /\.\d{8}_\d{6}(?:_\d{3})?\.tmp$/;
const STAMP = /^(\d{4})(\d{2})(\d{2})_(\d{2})(\d{2})(\d{2})$/;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `date +%Y%m%d_%H%M%S` for `now`, local time. */
export function formatStamp(now: Date): string {
  return `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}_${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
}

/** A stamp that names a real local date and time, as a Date; null otherwise (`20261341_…`, `…_256000`). */
export function parseStamp(stamp: string): Date | null {
  const m = STAMP.exec(stamp);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(y, mo - 1, d, h, mi, s);
  // Reject what Date would roll over (Feb 30, 25:00). A local time skipped by a DST jump also
  // rolls over; we never write one (we format a real instant), so refusing it is safe.
  const ok =
    date.getFullYear() === y &&
    date.getMonth() === mo - 1 &&
    date.getDate() === d &&
    date.getHours() === h &&
    date.getMinutes() === mi &&
    date.getSeconds() === s;
  return ok ? date : null;
}

export function snapshotFileName(base: string, stamp: string, seq = 0): string {
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ)
    throw new RangeError(`snapshot sequence out of range: ${seq}`);
  return seq === 0 ? `${base}.${stamp}` : `${base}.${stamp}_${pad(seq, 3)}`;
}

/** A file name that is a snapshot (ours or the runbook's); null for anything else. */
export function parseSnapshotName(name: string): SnapshotName | null {
  const m = NAME.exec(name);
  if (!m) return null;
  const [, base, stamp, seqText] = m as unknown as [string, string, string, string | undefined];
  if (RUNBOOK_TEMP_BASE.test(base)) return null; // the runbook's `${dest}.tmp.${TIMESTAMP}`, left by a failed copy
  const takenAt = parseStamp(stamp);
  if (takenAt === null) return null;
  const seq = seqText === undefined ? 0 : Number(seqText);
  if (seqText !== undefined && seq === 0) return null; // `_000` is never written: not ours
  return { base, stamp, seq, takenAt };
}

/** Order of taking: by stamp, then by sequence. */
export function compareSnapshotNames(
  a: Pick<SnapshotName, 'stamp' | 'seq'>,
  b: Pick<SnapshotName, 'stamp' | 'seq'>,
): number {
  return a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : a.seq - b.seq;
}
