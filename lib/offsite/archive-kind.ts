import { isBackupDate } from '../layout/index.ts';

export interface ArchiveKind {
  /** The name with its date replaced by "*": arkalia_states_*.tar.gz.gpg */
  kind: string;
  /** Sortable stamp: YYYYMMDDHHMMSS (time 000000 when the name has only a date). */
  stamp: string;
}

/**
 * Which series a backup file belongs to, and when it was made, from its name: the first
 * YYYYMMDD (optionally followed by _HHMMSS, or a point's _HHMM) that is a real date. Pure. A name without a date
 * has no kind (and so is never pruned automatically).
 */
export function archiveKind(name: string): ArchiveKind | null {
  const re = /(?<!\d)(\d{8})(?:_(\d{6}|\d{4}))?(?!\d)/g;
  for (const m of name.matchAll(re)) {
    if (!isBackupDate(m[1]!)) continue;
    const kind = `${name.slice(0, m.index)}*${name.slice(m.index + m[0].length)}`;
    return { kind, stamp: `${m[1]}${(m[2] ?? '').padEnd(6, '0')}` };
  }
  return null;
}
