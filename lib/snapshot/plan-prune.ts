import type { SnapshotRef } from './list-snapshots.ts';

export interface PrunePlan {
  /** Older than the window and not the newest of their series. */
  remove: SnapshotRef[];
  /** Newest of a series kept although older than the window (the only copy of that file's last state). */
  keptAsNewest: SnapshotRef[];
}

/**
 * Pure: which snapshots leave the window. Age is read from the stamp in the name, not the
 * mtime (a copy or a restore of the backup folder changes mtimes, not names). The newest
 * snapshot of each series is always kept, however old: it may be the last good copy of a
 * file whose service stopped writing (the runbook's `find -mtime +7 -delete` removed it).
 * Series for which `isOurs` is false are not looked at.
 */
export function planPrune(
  series: ReadonlyMap<string, readonly SnapshotRef[]>,
  options: { now: Date; keepMs: number; isOurs: (series: string) => boolean },
): PrunePlan {
  const cutoff = options.now.getTime() - options.keepMs;
  const plan: PrunePlan = { remove: [], keptAsNewest: [] };
  for (const [key, refs] of series) {
    if (!options.isOurs(key) || refs.length === 0) continue;
    const newest = refs.at(-1)!;
    for (const ref of refs) {
      if (ref.takenAt.getTime() >= cutoff) continue;
      if (ref === newest) plan.keptAsNewest.push(ref);
      else plan.remove.push(ref);
    }
  }
  return plan;
}
