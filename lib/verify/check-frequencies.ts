import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifest } from '../checksum/index.ts';
import { dailyDir, manifestFileName } from '../layout/index.ts';
import { parseDuration } from '../policy/index.ts';
import { dailyBackups, nowOf, type ChecklistOptions, type Outcome } from './check-result.ts';

/**
 * A data set's newest capture may be its frequency old, plus the lateness a scheduled point
 * is allowed (a quarter of the frequency, at least 15 minutes: a timer's random delay, a
 * point that waited for the lock) before the check fails.
 */
export function frequencyLimitMs(frequencyMs: number): number {
  return frequencyMs + Math.max(15 * 60_000, frequencyMs / 4);
}

/**
 * Daily: each data set's newest recovery point is within its frequency. The newest point's
 * manifest says when each archive was captured (captured_at; a point without it counts from
 * its backup_date); a data set's age is its archive's. Real-time data sets are the snapshots'
 * business, and are not checked here.
 */
export async function checkFrequencies(options: ChecklistOptions): Promise<Outcome> {
  const all = await dailyBackups(options);
  if (all.length === 0) return { status: 'failed', detail: `no recovery point in ${dailyDir(options.backupDir)}` };
  const newest = all[0]!;
  let manifest;
  try {
    manifest = parseManifest(await readFile(join(newest.dir, manifestFileName(newest.date)), 'utf8'));
  } catch (error) {
    return { status: 'failed', detail: `${newest.name}: its manifest cannot be read (${(error as Error).message})` };
  }
  const now = nowOf(options).getTime();
  const rows: {
    dataset: string;
    frequency: string;
    archive: string;
    captured_at: string | null;
    age_min: number | null;
  }[] = [];
  const late: string[] = [];
  for (const [name, ds] of Object.entries(options.policy.datasets)) {
    if (ds.frequency === 'realtime') continue;
    const entry = manifest.archives?.find((a) => a.name === ds.archive);
    const prefix = options.policy.archives[ds.archive]?.prefix;
    // A manifest without archives (the runbook's) or an archive without captured_at: its backup_date.
    const captured = entry?.captured_at ?? (entry || !manifest.archives ? manifest.backup_date : null);
    if (captured === null) {
      // An archive with nothing to hold (no models folder) is not written: skipped, not late.
      const skipped = manifest.skipped?.some((s) => s.archive === ds.archive);
      if (!skipped) late.push(`${name}: ${newest.name} has no ${prefix ?? ds.archive} archive`);
      rows.push({ dataset: name, frequency: ds.frequency, archive: ds.archive, captured_at: null, age_min: null });
      continue;
    }
    const age = now - Date.parse(captured);
    const limit = frequencyLimitMs(parseDuration(ds.frequency));
    rows.push({
      dataset: name,
      frequency: ds.frequency,
      archive: ds.archive,
      captured_at: captured,
      age_min: Math.round(age / 60_000),
    });
    if (!(age <= limit))
      late.push(
        `${name} (${ds.frequency}, in ${ds.archive}): captured ${captured}, ${formatAge(age)} ago, more than ${formatAge(limit)}`,
      );
  }
  const data = { newest: newest.name, datasets: rows };
  if (late.length > 0)
    return {
      status: 'failed',
      detail: `recovery points are late: ${late.join('; ')}. Is full-backup --point scheduled (schedule.mts)?`,
      data,
    };
  const shown = rows
    .filter((r) => r.age_min !== null)
    .map((r) => `${r.dataset} ${formatAge(r.age_min! * 60_000)} (≤ ${r.frequency})`);
  return { status: 'ok', detail: `newest captures in ${newest.name}: ${shown.join(', ')}`, data };
}

function formatAge(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = minutes / 60;
  return hours < 48 ? `${hours.toFixed(1)} h` : `${(hours / 24).toFixed(1)} days`;
}
