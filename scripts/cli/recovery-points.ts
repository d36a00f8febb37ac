import type { RestoreReport } from '../../lib/pipeline/restore.ts';

/**
 * The files a restore took from somewhere other than the point's own capture: newer real-time
 * snapshots, and archives the point carried from an earlier capture (not due yet). Empty
 * when every file is as of the point itself.
 */
export function otherRecoveryPoints(report: {
  recoveryPoints: RestoreReport['recoveryPoints'];
  backup: { recoveryPoint: string | null };
}): string {
  const snapshots = report.recoveryPoints.filter((p) => p.source === 'snapshot');
  const earlier = report.recoveryPoints.filter((p) => p.source === 'backup' && p.at !== report.backup.recoveryPoint);
  const byTime = new Map<string, string[]>();
  for (const p of earlier) byTime.set(p.at ?? 'unknown', [...(byTime.get(p.at ?? 'unknown') ?? []), p.path]);
  const parts: string[] = [];
  if (snapshots.length > 0) parts.push(`newer snapshots for ${snapshots.map((s) => `${s.path} (${s.at})`).join(', ')}`);
  for (const [at, paths] of byTime)
    parts.push(
      `${paths.length} file(s) as captured ${at} (not due at this point: ${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ', …' : ''})`,
    );
  return parts.join('; ');
}
