import { lstat, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { REALTIME_DIR_NAME, realtimeDir } from './realtime-layout.ts';
import { compareSnapshotNames, parseSnapshotName, type SnapshotName } from './snapshot-name.ts';
import { TEMP_SIBLING } from '../state/index.ts';

export interface SnapshotRef extends SnapshotName {
  /** The series: the snapshot's path under realtime/ without its stamp (`modules/zeroia/state/zeroia_state.toml`). */
  series: string;
  /** Relative to the backup dir: `realtime/modules/zeroia/state/zeroia_state.toml.20260315_120000`. */
  rel: string;
  /** Absolute path. */
  file: string;
  bytes: number;
}

/** A temp file a snapshot run writes before publishing: `.<name>.tmp-<pid>-<8 hex>`. */
export const TEMP_NAME = TEMP_SIBLING;

export interface SnapshotTree {
  /** Every snapshot, grouped by series, each group oldest first. */
  series: Map<string, SnapshotRef[]>;
  /** Our temp files (left by a crashed run, or being written right now). */
  temps: { file: string; pid: number; mtimeMs: number }[];
}

/**
 * Every snapshot under <backup-dir>/realtime (ours and the runbook's): regular files whose
 * name is `<name>.<YYYYMMDD_HHMMSS>[_NNN]` with a real date. Symlinks are neither followed
 * nor listed; anything else is not a snapshot and is left out. Missing realtime/ → empty.
 */
export async function listSnapshotTree(backupDir: string): Promise<SnapshotTree> {
  const series = new Map<string, SnapshotRef[]>();
  const temps: SnapshotTree['temps'] = [];
  async function walk(relDir: string): Promise<void> {
    const abs = join(realtimeDir(backupDir), relDir);
    const entries = await readdir(abs, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
      throw error;
    });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
      if (entry.isDirectory()) {
        await walk(rel);
        continue;
      }
      if (!entry.isFile()) continue;
      const temp = TEMP_NAME.exec(entry.name);
      if (temp) {
        const info = await lstat(join(abs, entry.name)).catch(() => null);
        if (info) temps.push({ file: join(abs, entry.name), pid: Number(temp[2]), mtimeMs: info.mtimeMs });
        continue;
      }
      const name = parseSnapshotName(entry.name);
      if (!name) continue;
      const info = await lstat(join(abs, entry.name)).catch(() => null);
      if (!info?.isFile()) continue;
      const key = relDir === '' ? name.base : `${relDir}/${name.base}`;
      const ref: SnapshotRef = {
        ...name,
        series: key,
        rel: posix.join(REALTIME_DIR_NAME, rel),
        file: join(abs, entry.name),
        bytes: info.size,
      };
      (series.get(key) ?? series.set(key, []).get(key)!).push(ref);
    }
  }
  await walk('');
  for (const refs of series.values()) refs.sort(compareSnapshotNames);
  return { series, temps };
}

/** The snapshots in one folder, by live file name, oldest first (one readdir). Missing folder → empty. */
export async function readSnapshotDir(dir: string): Promise<Map<string, SnapshotName[]>> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [] as string[];
    throw error;
  });
  const byBase = new Map<string, SnapshotName[]>();
  for (const n of names) {
    const parsed = parseSnapshotName(n);
    if (parsed) (byBase.get(parsed.base) ?? byBase.set(parsed.base, []).get(parsed.base)!).push(parsed);
  }
  for (const list of byBase.values()) list.sort(compareSnapshotNames);
  return byBase;
}
