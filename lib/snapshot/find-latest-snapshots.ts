import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { sha256Buffer } from '../checksum/index.ts';
import { validateToml } from '../state/index.ts';
import { listSnapshotTree, type SnapshotRef } from './list-snapshots.ts';
import { ownerOfSeries } from './realtime-layout.ts';
import { compareSnapshotNames } from './snapshot-name.ts';
import { compileStatePatterns, type StatePatterns } from './state-patterns.ts';

export interface LatestSnapshot {
  /** The live file it restores, relative to the Arkalia root. */
  livePath: string;
  /** Relative to the backup dir: `realtime/<live path>.<stamp>[_NNN]`. */
  snapshot: string;
  /** Absolute path of the snapshot. */
  file: string;
  /** When it was taken (the stamp in its name, local time). */
  takenAt: Date;
  stamp: string;
  /** 'legacy': written by the runbook's script (first path component stripped). */
  layout: 'full' | 'legacy';
  sha256: string;
  bytes: number;
}

export interface LatestSnapshots {
  /** Live path → its newest snapshot that is valid TOML. */
  byPath: Map<string, LatestSnapshot>;
  /** Snapshots newer than the one chosen that were skipped because they do not parse. */
  invalid: { snapshot: string; livePath: string; reason: string }[];
  /** Runbook snapshot series that could be of several live files (never offered for a restore). */
  ambiguous: { series: string; candidates: string[]; newest: string }[];
}

export interface FindLatestSnapshotsOptions {
  backupDir: string;
  /** `policy.realtime.paths` (or compiled): decides which live file a snapshot series is of. */
  patterns: readonly string[] | StatePatterns;
  /** Only these live paths (e.g. one module's state); default all. */
  include?: (livePath: string) => boolean;
}

/**
 * For each live state path, the newest snapshot that is valid TOML, and its timestamp: the
 * recovery side compares it with the daily backup's and prefers the newer one. Snapshots we
 * write map to their live path by name alone; runbook ones (realtime/zeroia/state/x.toml.*)
 * map back when the policy's patterns leave one candidate (modules/zeroia/state/x.toml) and
 * are reported as ambiguous otherwise (realtime/x.toml.*: state/ or global_state/?). Each
 * candidate is read and validated, newest first, until one parses. Reads only.
 */
export async function findLatestSnapshots(options: FindLatestSnapshotsOptions): Promise<LatestSnapshots> {
  const patterns = isCompiled(options.patterns) ? options.patterns : compileStatePatterns(options.patterns);
  const include = options.include ?? (() => true);
  const tree = await listSnapshotTree(options.backupDir);
  const result: LatestSnapshots = { byPath: new Map(), invalid: [], ambiguous: [] };

  // 1. Which live file each series is of.
  const candidates = new Map<string, { ref: SnapshotRef; layout: 'full' | 'legacy' }[]>();
  for (const [series, refs] of tree.series) {
    const owner = ownerOfSeries(series, patterns);
    if (owner.kind === 'ambiguous')
      result.ambiguous.push({ series, candidates: owner.candidates, newest: refs.at(-1)!.rel });
    if (owner.kind !== 'live' || !include(owner.livePath)) continue;
    const list = candidates.get(owner.livePath) ?? candidates.set(owner.livePath, []).get(owner.livePath)!;
    for (const ref of refs) list.push({ ref, layout: owner.layout });
  }

  // 2. Newest first (ours before a runbook one of the same second); the first that parses wins.
  for (const [livePath, list] of [...candidates].sort(([a], [b]) => (a < b ? -1 : 1))) {
    list.sort(
      (a, b) => compareSnapshotNames(b.ref, a.ref) || (a.layout === b.layout ? 0 : a.layout === 'full' ? -1 : 1),
    );
    for (const { ref, layout } of list) {
      const bytes = await readRegularFile(ref.file);
      if (bytes === null) continue;
      const check = validateToml(bytes);
      if (!check.ok) {
        result.invalid.push({ snapshot: ref.rel, livePath, reason: check.reason });
        continue;
      }
      result.byPath.set(livePath, {
        livePath,
        snapshot: ref.rel,
        file: ref.file,
        takenAt: ref.takenAt,
        stamp: ref.stamp,
        layout,
        sha256: sha256Buffer(bytes),
        bytes: bytes.length,
      });
      break;
    }
  }
  return result;
}

function isCompiled(patterns: readonly string[] | StatePatterns): patterns is StatePatterns {
  return !Array.isArray(patterns);
}

async function readRegularFile(file: string): Promise<Buffer | null> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!handle) return null;
  try {
    return (await handle.stat()).isFile() ? await handle.readFile() : null;
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}
