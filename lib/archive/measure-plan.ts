import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface PlanSize {
  /** The tar stream's size as GNU tar would write it (headers and padding included), roughly. */
  tarBytes: number;
  /** Regular files. */
  files: number;
  /** Members of every kind (files, folders, links). */
  entries: number;
}

const BLOCK = 512;

/**
 * What an archive of `paths` under `cwd` will hold, from lstat alone (no file is read), so
 * progress can show a percentage and an ETA. An estimate: files may change before they are
 * read, and long names add headers. Unreadable folders count as empty (the archive reports them).
 */
export async function measurePlan(cwd: string, paths: readonly string[]): Promise<PlanSize> {
  const size: PlanSize = { tarBytes: 2 * BLOCK * 10, files: 0, entries: 0 };
  const visit = async (path: string): Promise<void> => {
    const info = await lstat(path).catch(() => null);
    if (info === null) return;
    size.entries += 1;
    size.tarBytes += BLOCK;
    if (info.isFile()) {
      size.files += 1;
      size.tarBytes += Math.ceil(info.size / BLOCK) * BLOCK;
    } else if (info.isDirectory()) {
      const names = await readdir(path).catch(() => [] as string[]);
      // A few at a time: fast on many small files without opening thousands of handles at once.
      for (let i = 0; i < names.length; i += 64) await Promise.all(names.slice(i, i + 64).map((name) => visit(join(path, name))));
    }
  };
  for (const path of paths) await visit(join(cwd, path));
  return size;
}
