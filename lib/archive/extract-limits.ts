import { IntegrityError } from '../errors.ts';

// Caps on what one restore may decompress, so that a decompression bomb (or an archive that
// is simply not what its manifest says) stops early instead of filling the disk. They hold
// even for archives whose checksum verified: whoever can write the backup folder can rewrite
// the checksum file too.

export interface ExtractLimits {
  /** Decompressed tar bytes read, over every archive of one restore (selected entries or not). */
  maxBytes: number;
  /** Entries of every type, metadata headers included, over every archive of one restore. */
  maxEntries: number;
  /** Decompressed / compressed bytes of one archive, checked once RATIO_GRACE_BYTES were decompressed. */
  maxRatio: number;
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/**
 * Sensible for Arkalia's states, configs and infra (a few MB, 10-25:1): far above any real
 * backup, far below a full disk. gzip cannot exceed about 1030:1, so the ratio cap stops a
 * bomb after RATIO_GRACE_BYTES (16 MiB) at the latest.
 */
export const DEFAULT_EXTRACT_LIMITS: Readonly<ExtractLimits> = Object.freeze({
  maxBytes: 4 * GiB,
  maxEntries: 200_000,
  maxRatio: 200,
});

/** Below this, small archives of tiny files (tar headers are mostly zeros) may legitimately compress very well. */
export const RATIO_GRACE_BYTES = 16 * MiB;

/** Counters shared by the archives of one restore; each attempt at a backup gets a fresh one. */
export class ExtractBudget {
  readonly limits: Readonly<ExtractLimits>;
  bytes = 0;
  entries = 0;

  constructor(limits: Partial<ExtractLimits> = {}) {
    this.limits = { ...DEFAULT_EXTRACT_LIMITS, ...limits };
  }

  /** An entry header was read: count it, and refuse one that declares more data than is left. */
  admitEntry(file: string, entry: string, declaredSize: number): void {
    this.entries += 1;
    if (this.entries > this.limits.maxEntries) {
      throw limitError(file, entry, 'entries', `more than ${this.limits.maxEntries} entries (--max-entries)`);
    }
    if (this.bytes + declaredSize > this.limits.maxBytes) {
      throw limitError(
        file,
        entry,
        'bytes',
        `it declares ${formatSize(declaredSize)}, which would take the restore past its cap of ${formatSize(this.limits.maxBytes)} decompressed (--max-bytes)`,
      );
    }
  }

  /** Decompressed bytes arrived from one archive whose compressed bytes read so far are `compressed`. */
  admitBytes(file: string, entry: string, decompressed: number, compressed: number, archiveTotal: number): void {
    this.bytes += decompressed;
    if (this.bytes > this.limits.maxBytes) {
      throw limitError(
        file,
        entry,
        'bytes',
        `the restore decompressed more than its cap of ${formatSize(this.limits.maxBytes)} (--max-bytes)`,
      );
    }
    if (archiveTotal > RATIO_GRACE_BYTES && archiveTotal > this.limits.maxRatio * Math.max(compressed, 1)) {
      throw limitError(
        file,
        entry,
        'ratio',
        `${formatSize(archiveTotal)} decompressed from ${formatSize(compressed)}: over the ${this.limits.maxRatio}:1 compression ratio cap (--max-ratio)`,
      );
    }
  }
}

function limitError(file: string, entry: string, limit: 'bytes' | 'entries' | 'ratio', why: string): IntegrityError {
  return new IntegrityError(
    'ARCHIVE_LIMIT_EXCEEDED',
    `${file}: stopped at entry ${JSON.stringify(entry)}: ${why}. Refusing a possible decompression bomb; nothing was restored from it.`,
    {
      details: { limit, entry, file },
    },
  );
}

export function formatSize(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(bytes % GiB === 0 ? 0 : 1)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(bytes % MiB === 0 ? 0 : 1)} MiB`;
  return `${bytes} bytes`;
}

/** `--max-bytes` values: a number of bytes, or with a K, M, G or T suffix (powers of 1024). */
export function parseSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  if (!m) return null;
  const power = ['', 'K', 'M', 'G', 'T'].indexOf(m[2]!.toUpperCase());
  const value = Math.floor(Number(m[1]) * 1024 ** power);
  return Number.isSafeInteger(value) && value > 0 ? value : null;
}
