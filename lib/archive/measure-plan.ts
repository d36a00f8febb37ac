import { lstatSync, readdirSync, type Stats } from 'node:fs';
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
 * Synchronous on purpose: nothing else runs while a backup is planned, and 17k lstat calls
 * take ~60 ms this way against ~470 ms as thread-pool round trips.
 */
export async function measurePlan(cwd: string, paths: readonly string[]): Promise<PlanSize> {
  const size: PlanSize = { tarBytes: 2 * BLOCK * 10, files: 0, entries: 0 };
  const visit = (path: string): void => {
    let info: Stats;
    try {
      info = lstatSync(path);
    } catch {
      return;
    }
    size.entries += 1;
    size.tarBytes += BLOCK;
    if (info.isFile()) {
      size.files += 1;
      size.tarBytes += Math.ceil(info.size / BLOCK) * BLOCK;
    } else if (info.isDirectory()) {
      let names: string[];
      try {
        names = readdirSync(path);
      } catch {
        return;
      }
      for (const name of names) visit(join(path, name));
    }
  };
  for (const path of paths) visit(join(cwd, path));
  return size;
}
