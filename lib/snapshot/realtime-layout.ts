import { join, posix } from 'node:path';
import { matchesStatePath, type StatePatterns } from './state-patterns.ts';
import { snapshotFileName } from './snapshot-name.ts';

// Where snapshots live, and which live file a snapshot belongs to.
//
// We write the FULL relative path, as DESIGN.md lays it out:
//   <backup-dir>/realtime/modules/zeroia/state/zeroia_state.toml.20260315_120000
// The runbook's `relative_path=${state_file#*/}` stripped the first component instead
// (modules/zeroia/state/x.toml → zeroia/state/x.toml), which made state/global_context.toml
// and global_state/global_context.toml the same snapshot series: a restore could not tell
// which file a snapshot was of. Runbook snapshots are still read (recognised as "legacy")
// where the policy's patterns leave exactly one candidate live path.

export const REALTIME_DIR_NAME = 'realtime';

export const realtimeDir = (backupDir: string): string => join(backupDir, REALTIME_DIR_NAME);

/** Folder (absolute) that holds the snapshots of the live file `livePath` (relative to the root). */
export function snapshotDirFor(backupDir: string, livePath: string): string {
  return join(realtimeDir(backupDir), posix.dirname(livePath));
}

/** Path of a snapshot relative to the backup dir: `realtime/<live path>.<stamp>[_NNN]`. */
export function snapshotRelPath(livePath: string, stamp: string, seq = 0): string {
  const dir = posix.dirname(livePath);
  const name = snapshotFileName(posix.basename(livePath), stamp, seq);
  return posix.join(REALTIME_DIR_NAME, dir === '.' ? '' : dir, name);
}

export type SeriesOwner =
  | { kind: 'live'; livePath: string; layout: 'full' | 'legacy' }
  | { kind: 'ambiguous'; candidates: string[] }
  | { kind: 'foreign' };

/**
 * The live file a snapshot series (its path under realtime/, without the stamp) belongs to.
 * A path that is itself a state path is ours (full layout). Otherwise it may be a runbook
 * snapshot with its first component stripped: each pattern whose first segment is literal
 * (`modules`, `state`, `global_state`) and whose rest matches gives one candidate. Exactly
 * one candidate maps; several (`realtime/global_context.toml.*`: state/ or global_state/?)
 * are ambiguous and must not be restored blindly.
 */
export function ownerOfSeries(series: string, patterns: StatePatterns): SeriesOwner {
  if (matchesStatePath(patterns, series)) return { kind: 'live', livePath: series, layout: 'full' };
  const parts = series.split('/');
  const candidates = new Set<string>();
  for (const segs of patterns.compiled) {
    if (segs.length !== parts.length + 1) continue;
    if (!segs.slice(1).every((s, i) => s.re.test(parts[i]!))) continue;
    const first = segs[0]!;
    candidates.add(first.literal ? `${first.text}/${series}` : `${first.text}/${series} (unknown first folder)`);
  }
  const list = [...candidates].sort();
  if (list.length === 0) return { kind: 'foreign' };
  if (list.length === 1 && !list[0]!.endsWith(' (unknown first folder)'))
    return { kind: 'live', livePath: list[0]!, layout: 'legacy' };
  return { kind: 'ambiguous', candidates: list };
}
