import { createHash } from 'node:crypto';
import type { SegmentIndex, SegmentRecord } from '../checksum/index.ts';

export type { SegmentIndex, SegmentRecord };

// Segments: how a point rewrites only the part of an archive that changed. The tar stream is
// cut into runs of whole members (about 1 MiB each on average), cut where a member's name
// hashes below a threshold, so the cuts fall in the same places from one point to the next
// whatever changed elsewhere. Each run is deflated without the dictionary of the one before it, so
// its compressed bytes stand alone: the next point copies a run whose members' lstat did not
// change (name, type, mode, size, mtime, ctime, inode, owner, link target: the fingerprint
// measurePlan takes, as restic decides a file is unchanged) from the previous archive, and
// reads, packs and deflates only the runs that changed. The result is still one standard gzip
// member (`tar -xzf` reads it); its CRC-32 is the runs' CRCs combined (crc32Combine).
// The manifest keeps each archive's runs: where they are in the file, their tar bytes and CRC.

/** A member as the plan's walk saw it (measurePlan), in the packer's order. Kept small: a plan holds one per file (17k for Arkalia's states). */
export interface PlannedMember {
  /** Its name in the archive (a folder without its trailing "/"); on disk, cwd/name. */
  name: string;
  kind: 'dir' | 'file' | 'other';
  /** lstat's size. */
  size: number;
  /** The rest of measurePlan's fingerprint line after the name: mode, size, mtime, ctime (ns), inode, owner, link target. */
  rest: string;
  /** For a path the caller named (not found in a folder): as given (with its trailing "/", if any: then tar follows a link to a folder). */
  given?: string;
}

export interface PlannedSegment {
  members: PlannedMember[];
  digest: string;
  /** The previous archive's run with the same members, copied instead of packed. */
  reuse: SegmentRecord | null;
}

/**
 * Whether what the packer opened (fs.Stats) is the member the walk saw: same mode, size,
 * mtime, inode and owner. When not, what was packed is right, but the run is not reused later.
 */
export function sameAsPlanned(
  member: PlannedMember,
  info: { mode: number; size: number; mtimeMs: number; ino: number; uid: number; gid: number },
): boolean {
  const [mode, size, mtimeNs, , ino, owner] = member.rest.split('\0');
  if (Number(mode) !== info.mode || Number(size) !== info.size || Number(ino) !== info.ino) return false;
  if (owner !== `${info.uid}:${info.gid}`) return false;
  // As fs.Stats computes mtimeMs (seconds * 1e3 + nanoseconds / 1e6), so the two compare equal.
  const ns = BigInt(mtimeNs!);
  return Number(ns / NS_PER_S) * 1e3 + Number(ns % NS_PER_S) / 1e6 === info.mtimeMs;
}

const NS_PER_S = 1_000_000_000n;

/**
 * Where runs end: before a member whose name hashes below its share of TARGET_BYTES (a member
 * of 3 KB cuts with odds 3 KB / 1 MiB; one of 1 MiB or more always), so that whether a member
 * starts a run depends on that member alone, and an insertion or a removal moves no cut but
 * its own: the runs after it are the same runs again. A run past MAX_BYTES is cut at the next
 * member whatever its name (rare: ~1 in 3,000 runs for members of a few KB).
 */
export const TARGET_BYTES = 1024 * 1024;
export const MAX_BYTES = 8 * 1024 * 1024;

const BLOCK = 512;

function estimate(member: PlannedMember): number {
  return BLOCK + (member.kind === 'file' ? Math.ceil(member.size / BLOCK) * BLOCK : 0);
}

/** FNV-1a, 32 bits: a cheap hash of a name that does not change from one run to the next. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i += 1) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The runs of `members`, each matched against the previous archive's runs (same level only). */
export function planSegments(
  members: readonly PlannedMember[],
  previous: SegmentIndex | null,
  level: number,
): PlannedSegment[] {
  const known = new Map<string, SegmentRecord>();
  if (previous && previous.level === level)
    for (const run of previous.runs) if (run.digest !== '') known.set(run.digest, run);
  const out: PlannedSegment[] = [];
  let current: PlannedMember[] = [];
  let bytes = 0;
  const close = () => {
    if (current.length === 0) return;
    const hash = createHash('sha256');
    for (const m of current) hash.update(`${m.name}\0${m.rest}\n`);
    const digest = hash.digest('hex');
    const match = known.get(digest);
    out.push({ members: current, digest, reuse: match && match.members === current.length ? match : null });
    current = [];
    bytes = 0;
  };
  for (const member of members) {
    if (bytes >= MAX_BYTES || nameHash(member.name) < (estimate(member) / TARGET_BYTES) * 2 ** 32) close();
    current.push(member);
    bytes += estimate(member);
  }
  close();
  return out;
}

/**
 * Whether `index` describes the gzip file of `size` bytes whose trailer holds `trailerCrc` and
 * `trailerSize`: runs back to back from the 10-byte header to the final block and trailer,
 * their tar bytes adding up to the trailer's size and their CRCs combining to its CRC. A run
 * is copied only out of an archive whose index passes (and whose sha256 was verified).
 */
export function indexMatches(index: SegmentIndex, size: number, trailerCrc: number, trailerSize: number): boolean {
  let at = GZIP_HEADER_BYTES;
  let crc = 0;
  let tar = 0;
  for (const run of index.runs) {
    if (run.gz_offset !== at) return false;
    at += run.gz_bytes;
    crc = crc32Combine(crc, run.crc32, run.tar_bytes);
    tar += run.tar_bytes;
  }
  return at + GZIP_END_BYTES === size && crc === trailerCrc && tar % 0x1_0000_0000 === trailerSize;
}

/** The gzip header ParallelGzip writes (10 bytes), and what follows the last run: an empty final block (2) and the trailer (8). */
export const GZIP_HEADER_BYTES = 10;
export const GZIP_END_BYTES = 10;

/**
 * CRC-32 of A followed by B, from crc(A), crc(B) and B's length (zlib's crc32_combine, by
 * squaring the GF(2) matrix of "one zero bit"): Node's zlib has crc32 but not its combine.
 */
export function crc32Combine(crc1: number, crc2: number, length2: number): number {
  if (length2 <= 0) return crc1 >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  odd[0] = 0xedb88320; // the CRC-32 polynomial: the operator for one zero bit
  let row = 1;
  for (let n = 1; n < 32; n += 1) {
    odd[n] = row;
    row = (row << 1) >>> 0;
  }
  square(even, odd); // two zero bits
  square(odd, even); // four
  let crc = crc1 >>> 0;
  let left = length2;
  // Apply length2 zero bytes to crc1, one bit of length2 at a time (first: eight zero bits).
  for (;;) {
    square(even, odd);
    if (left % 2 === 1) crc = times(even, crc);
    left = Math.floor(left / 2);
    if (left === 0) break;
    square(odd, even);
    if (left % 2 === 1) crc = times(odd, crc);
    left = Math.floor(left / 2);
    if (left === 0) break;
  }
  return (crc ^ crc2) >>> 0;
}

function times(matrix: Uint32Array, vector: number): number {
  let sum = 0;
  let v = vector >>> 0;
  for (let i = 0; v !== 0; i += 1, v >>>= 1) if (v & 1) sum ^= matrix[i]!;
  return sum >>> 0;
}

function square(into: Uint32Array, matrix: Uint32Array): void {
  for (let n = 0; n < 32; n += 1) into[n] = times(matrix, matrix[n]!);
}
