import { lstat, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { sha256Buffer } from '../checksum/index.ts';
import { readSnapshotDir } from './list-snapshots.ts';
import { snapshotDirFor } from './realtime-layout.ts';
import { compareSnapshotNames, snapshotFileName, type SnapshotName } from './snapshot-name.ts';

export interface NewestSnapshot {
  name: SnapshotName;
  /** Absolute path. */
  file: string;
  /** sha256 of its bytes; null when it cannot be read (then it never counts as "unchanged"). */
  sha256: string | null;
}

/**
 * What snapshots exist, per live file, read from the snapshots themselves: one readdir per
 * snapshot folder, then the newest one's bytes hashed once. There is no index file to fall
 * out of step with the snapshots. Kept across a watch session as a cache, and re-checked
 * before it is trusted: a newest snapshot that was deleted or changed under us (same name,
 * other size or mtime) makes the folder be listed and hashed again.
 */
export class SnapshotCatalog {
  readonly #backupDir: string;
  readonly #dirs = new Map<string, Map<string, SnapshotName[]>>();
  readonly #hashes = new Map<string, { sha256: string; size: number; mtimeMs: number }>();

  constructor(backupDir: string) {
    this.#backupDir = backupDir;
  }

  /** Existing snapshots of `livePath`, oldest first. */
  async names(livePath: string): Promise<SnapshotName[]> {
    const dir = snapshotDirFor(this.#backupDir, livePath);
    let listing = this.#dirs.get(dir);
    if (!listing) {
      listing = await readSnapshotDir(dir);
      this.#dirs.set(dir, listing);
    }
    return listing.get(posix.basename(livePath)) ?? [];
  }

  /** The newest snapshot of `livePath` and the sha256 of its content, or null when there is none. */
  async newest(livePath: string): Promise<NewestSnapshot | null> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const name = (await this.names(livePath)).at(-1);
      if (!name) return null;
      const file = join(snapshotDirFor(this.#backupDir, livePath), snapshotFileName(name.base, name.stamp, name.seq));
      const info = await lstat(file).catch(() => null);
      if (!info) {
        this.forget(livePath); // deleted under us: list again
        continue;
      }
      if (!info.isFile()) return { name, file, sha256: null };
      const cached = this.#hashes.get(file);
      if (cached && cached.size === info.size && cached.mtimeMs === info.mtimeMs)
        return { name, file, sha256: cached.sha256 };
      const bytes = await readFile(file).catch(() => null);
      if (!bytes) return { name, file, sha256: null };
      const sha256 = sha256Buffer(bytes);
      this.#hashes.set(file, { sha256, size: info.size, mtimeMs: info.mtimeMs });
      return { name, file, sha256 };
    }
    return null;
  }

  /** Record a snapshot we just published, so the next change is compared with it without a read. */
  async add(livePath: string, name: SnapshotName, file: string, sha256: string): Promise<void> {
    const list = await this.names(livePath);
    if (!list.some((n) => compareSnapshotNames(n, name) === 0)) {
      list.push(name);
      list.sort(compareSnapshotNames);
      const dir = snapshotDirFor(this.#backupDir, livePath);
      this.#dirs.get(dir)!.set(posix.basename(livePath), list);
    }
    const info = await lstat(file).catch(() => null);
    if (info) this.#hashes.set(file, { sha256, size: info.size, mtimeMs: info.mtimeMs });
  }

  /** Drop what is known of `livePath`'s folder (after pruning, or when it changed under us). */
  forget(livePath?: string): void {
    if (livePath === undefined) {
      this.#dirs.clear();
      this.#hashes.clear();
      return;
    }
    this.#dirs.delete(snapshotDirFor(this.#backupDir, livePath));
  }
}
