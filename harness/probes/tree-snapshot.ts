import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { stripHeartbeat } from '../arkalia/index.ts';
import type { Location } from './locate.ts';

/** One file as the runner saw it: sha256 of its bytes, and of its bytes without a stand-in heartbeat. */
export interface FileFingerprint {
  sha256: string;
  withoutHeartbeat: string;
}

/** Every file of the root, the backup folder and the workspace, by location then relative path. */
export type TreeSnapshot = Record<Location, Map<string, FileFingerprint>>;

/** Hash the three locations (small drill trees: a few MB at most). Missing folders are empty. */
export async function takeTreeSnapshot(dirs: Record<Location, string>): Promise<TreeSnapshot> {
  const [root, backup, work] = await Promise.all([hashFiles(dirs.root), hashFiles(dirs.backup), hashFiles(dirs.work)]);
  return { root, backup, work };
}

/** Relative path → fingerprint for every regular file (and symlink, by its target) under `dir`. */
export async function hashFiles(dir: string): Promise<Map<string, FileFingerprint>> {
  const out = new Map<string, FileFingerprint>();
  const walk = async (sub: string): Promise<void> => {
    const entries = await readdir(join(dir, sub), { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return [];
      throw e;
    });
    for (const entry of entries) {
      const rel = sub === '' ? entry.name : `${sub}/${entry.name}`;
      const path = join(dir, rel);
      if (entry.isDirectory()) await walk(rel);
      else if (entry.isSymbolicLink()) {
        const sha256 = sha(Buffer.from(`symlink:${await readlink(path)}`));
        out.set(rel, { sha256, withoutHeartbeat: sha256 });
      } else if ((await lstat(path).catch(() => null))?.isFile()) {
        const bytes = await readFile(path).catch(() => null);
        if (bytes === null) continue; // vanished while walking (a service's rename)
        out.set(rel, {
          sha256: sha(bytes),
          withoutHeartbeat: sha(Buffer.from(stripHeartbeat(bytes.toString('utf8')))),
        });
      }
    }
  };
  await walk('');
  return out;
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
