import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../state/index.ts';

// Which archive files were hashed, when, and what the file looked like then (device, inode,
// size, mtime, ctime): a recovery point that hard-links the previous point's archive must know
// its bytes are still the ones the checksum file lists. Hashing a model store of tens of GiB
// every hour would cost minutes of disk each hour, so a file hashed less than MAX_AGE ago whose
// inode, size, mtime and ctime are exactly what they were is trusted without reading it
// (any write, truncate, chmod or new link changes its ctime); anything else is hashed again.
// Silent bit rot changes none of those: it is found by the daily re-hash here, by `verify
// --daily` (every checksum of every point) and by every restore, which hashes before reading.
// The same record keeps which state contents parsed as TOML (by sha256: validity is a function
// of the bytes alone), so an hourly point parses only the state files that changed.

export const VERIFIED_FILE = '.arkalia-dr-verified.json';
/** A file is hashed again at least this often (ms) before a point reuses it. */
export const MAX_AGE_MS = 24 * 3_600_000;

const entrySchema = z.object({
  size: z.string(),
  mtime_ns: z.string(),
  ctime_ns: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  hashed_at: z.string(),
});
const fileSchema = z.object({
  format: z.literal('arkalia-dr-verified/1'),
  files: z.record(z.string(), entrySchema),
  /** sha256 (first 32 hex digits) of state file contents that parsed as TOML. */
  valid_toml: z.array(z.string().regex(/^[0-9a-f]{32}$/)).default([]),
});

type Entry = z.infer<typeof entrySchema>;

export interface FileIdentity {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export async function fileIdentity(path: string): Promise<FileIdentity> {
  const info = await stat(path, { bigint: true });
  return { dev: info.dev, ino: info.ino, size: info.size, mtimeNs: info.mtimeNs, ctimeNs: info.ctimeNs };
}

const keyOf = (id: FileIdentity) => `${id.dev}:${id.ino}`;

export class VerifiedArchives {
  readonly #known: Map<string, Entry>;
  readonly #kept = new Map<string, Entry>();
  readonly #validToml: ReadonlySet<string>;
  readonly #validSeen = new Set<string>();

  private constructor(known: Map<string, Entry>, validToml: ReadonlySet<string>) {
    this.#known = known;
    this.#validToml = validToml;
  }

  /** The record in `backupDir`; empty when absent or unreadable (then every archive is hashed). */
  static async load(backupDir: string): Promise<VerifiedArchives> {
    try {
      const parsed = fileSchema.parse(JSON.parse(await readFile(join(backupDir, VERIFIED_FILE), 'utf8')));
      return new VerifiedArchives(new Map(Object.entries(parsed.files)), new Set(parsed.valid_toml));
    } catch {
      return new VerifiedArchives(new Map(), new Set());
    }
  }

  /** The sha256 the file had when it was hashed, if that was under MAX_AGE ago and the file has not changed since; else null. */
  trusted(id: FileIdentity, now: Date): string | null {
    const entry = this.#known.get(keyOf(id));
    if (!entry) return null;
    const same =
      entry.size === String(id.size) && entry.mtime_ns === String(id.mtimeNs) && entry.ctime_ns === String(id.ctimeNs);
    const age = now.getTime() - Date.parse(entry.hashed_at);
    return same && age >= 0 && age < MAX_AGE_MS ? entry.sha256 : null;
  }

  /** When `sha256` was hashed from the file as `id` describes it (or vouched for at `hashedAt`, after a link of our own). */
  record(id: FileIdentity, sha256: string, hashedAt: Date | string): void {
    const entry: Entry = {
      size: String(id.size),
      mtime_ns: String(id.mtimeNs),
      ctime_ns: String(id.ctimeNs),
      sha256,
      hashed_at: typeof hashedAt === 'string' ? hashedAt : hashedAt.toISOString(),
    };
    this.#known.set(keyOf(id), entry);
    this.#kept.set(keyOf(id), entry);
  }

  /** Did the bytes of `key` (tomlKey) parse as TOML in an earlier run? (Kept for the next run if so.) */
  knownValidToml(key: string): boolean {
    if (!this.#validToml.has(key)) return false;
    this.#validSeen.add(key);
    return true;
  }

  /** The bytes of `key` were just parsed, and are valid TOML. */
  recordValidToml(key: string): void {
    this.#validSeen.add(key);
  }

  /**
   * An archive was reused without being read: the state contents known valid are kept for
   * the next run as they were (which of them it holds is not known without reading it), so
   * the next point that writes the states again still parses only what changed.
   */
  keepKnownValidToml(): void {
    for (const key of this.#validToml) this.#validSeen.add(key);
  }

  /** When that file was last hashed, if known. */
  hashedAt(id: FileIdentity): string | null {
    return this.#known.get(keyOf(id))?.hashed_at ?? null;
  }

  /** Write what this run recorded (the new point's archives), atomically; the rest is dropped. */
  async save(backupDir: string): Promise<void> {
    const files = Object.fromEntries([...this.#kept].sort(([a], [b]) => a.localeCompare(b)));
    const valid_toml = [...this.#validSeen].sort();
    await writeFileAtomic(
      join(backupDir, VERIFIED_FILE),
      `${JSON.stringify({ format: 'arkalia-dr-verified/1', files, valid_toml })}\n`,
    );
  }
}

/** What identifies a state file's bytes in the record: their sha256 (first 32 hex digits). */
export const tomlKey = (content: Buffer): string => createHash('sha256').update(content).digest('hex').slice(0, 32);
