import { parseDuration, type Dataset, type Policy } from '../policy/index.ts';
import { addHours, durationToCalendar, ScheduleError, type CalendarSpec, type TimeOfDay } from './calendar.ts';

// Which script runs when, from the policy. The scripts we have decide what can be honoured:
// realtime-snapshot snapshots the [realtime] paths continuously; full-backup writes every
// archive at once, one backup per date, on schedule.full; prune, encrypted-backup and
// remote-sync follow it in that order; verify.mts runs the runbook's checklist. A data set
// that needs a backup more often than schedule.full (and is not real time) cannot be honoured
// by any existing script: the plan says so rather than inventing one.

export type JobId =
  | 'realtime-snapshot'
  | 'full-backup'
  | 'prune'
  | 'encrypted-backup'
  | 'remote-sync'
  | 'verify-daily'
  | 'verify-weekly'
  | 'verify-monthly';

export type JobTiming =
  /** A long-running service (systemd); cron runs `cron.args` on `cron.calendar` instead. */
  | { kind: 'daemon'; cron: { calendar: CalendarSpec; args: string[] } }
  | { kind: 'calendar'; calendar: CalendarSpec }
  /** Right after `job` finishes, whether it succeeded or not. */
  | { kind: 'after'; job: JobId };

export interface ScheduledJob {
  id: JobId;
  /** scripts/<script> */
  script: string;
  args: string[];
  timing: JobTiming;
  summary: string;
  /** Comment lines for the generated files. */
  notes: string[];
  /** The script is not in scripts/ yet: the entry is generated anyway and fails until it is. */
  missing?: boolean;
}

export interface DatasetCoverage {
  dataset: string;
  frequency: string;
  paths: readonly string[];
  honouredBy: JobId | null;
  note: string;
}

export interface SchedulePlan {
  jobs: ScheduledJob[];
  datasets: DatasetCoverage[];
  /** The full backup's schedule (the chain's). */
  full: CalendarSpec;
}

export interface ScheduleOptions {
  /** When the full backup runs (the runbook's 03:00). */
  at: TimeOfDay;
  /** Extra arguments per script (recipients, target, --policy): never secrets. */
  args?: Partial<Record<'common' | 'encrypted-backup' | 'remote-sync', readonly string[]>>;
  /** Scripts present in scripts/ (default: all but verify.mts). */
  available?: (script: string) => boolean;
}

const DEFAULT_AVAILABLE = (script: string) => script !== 'verify.mts';

/** Pure: the jobs and, per data set, what honours its frequency. ScheduleError (exit 2) when schedule.full cannot be run. */
export function planSchedule(policy: Readonly<Policy>, options: ScheduleOptions): SchedulePlan {
  const { at } = options;
  const available = options.available ?? DEFAULT_AVAILABLE;
  const common = [...(options.args?.common ?? [])];
  const full = fullCalendar(policy.schedule.full, at);
  const fullMs = parseDuration(policy.schedule.full);
  const jobs: ScheduledJob[] = [];
  const job = (j: Omit<ScheduledJob, 'missing'>) => jobs.push(available(j.script) ? j : { ...j, missing: true });

  // 1. Data sets: real time → realtime-snapshot; as often as the full backup or less → full-backup; else nobody.
  const datasets = Object.entries(policy.datasets).map(([name, ds]): DatasetCoverage => {
    const base = { dataset: name, frequency: ds.frequency, paths: ds.paths };
    if (ds.frequency === 'realtime') {
      return {
        ...base,
        honouredBy: 'realtime-snapshot',
        note: `real-time snapshots of the [realtime] paths (${policy.realtime.paths.join(', ')}); the rest of ${ds.paths.join(', ')} goes into the full backup`,
      };
    }
    if (parseDuration(ds.frequency) >= fullMs)
      return {
        ...base,
        honouredBy: 'full-backup',
        note: `in the ${ds.archive} archive of the full backup (${full.description})`,
      };
    let wanted: string;
    try {
      wanted = durationToCalendar(ds.frequency, at).description;
    } catch (error) {
      wanted = `which has no exact cron form either: ${(error as ScheduleError).message}`;
    }
    return {
      ...base,
      honouredBy: null,
      note: `NOT honoured: wanted every ${ds.frequency} (${wanted}), but it is in the ${ds.archive} archive, which only full-backup writes (${full.description}; one backup per date). No script backs up one data set alone${snapshottable(policy, ds) ? '; its TOML files can be snapshotted in real time by adding their globs to [realtime] paths' : ''}`,
    };
  });

  // 2. Real time: a --watch service (systemd) or a pass every minute (cron).
  const realtime = datasets.filter((d) => d.honouredBy === 'realtime-snapshot').map((d) => d.dataset);
  if (realtime.length > 0) {
    job({
      id: 'realtime-snapshot',
      script: 'realtime-snapshot.mts',
      args: ['--watch', ...common],
      timing: { kind: 'daemon', cron: { calendar: durationToCalendar('PT1M', at), args: [...common] } },
      summary: `real-time snapshots of ${realtime.join(', ')}`,
      notes: [
        'cron cannot run a daemon: one pass a minute instead of --watch (passes do not lock; two overlapping passes at worst write a duplicate snapshot)',
      ],
    });
  }

  // 3. The nightly chain: full backup, then prune, encrypted copy, offsite copy, each after the one before.
  job({
    id: 'full-backup',
    script: 'full-backup.mts',
    args: ['--no-prune', ...common],
    timing: { kind: 'calendar', calendar: full },
    summary: `full backup, ${full.description}`,
    notes: ['--no-prune: prune runs right after, as its own step (its own exit code and metrics)'],
  });
  job({
    id: 'prune',
    script: 'prune.mts',
    args: [...common],
    timing: { kind: 'after', job: 'full-backup' },
    summary: `retention (daily_days ${policy.retention.daily_days}), after the full backup`,
    notes: [],
  });
  job({
    id: 'encrypted-backup',
    script: 'encrypted-backup.mts',
    args: [...(options.args?.['encrypted-backup'] ?? []), ...common],
    timing: { kind: 'after', job: 'prune' },
    summary: 'encrypted copy of the offsite archives, after prune',
    notes: options.args?.['encrypted-backup']?.length
      ? []
      : ['recipients from ARK_RECIPIENTS or ARK_KEYRING in its environment (none was given to schedule.mts)'],
  });
  job({
    id: 'remote-sync',
    script: 'remote-sync.mts',
    args: [...(options.args?.['remote-sync'] ?? []), ...common],
    timing: { kind: 'after', job: 'encrypted-backup' },
    summary: 'offsite copy of encrypted/, after encrypted-backup',
    notes: options.args?.['remote-sync']?.length
      ? []
      : ['target from ARK_OFFSITE in its environment (none was given to schedule.mts)'],
  });

  // 4. The runbook's checklist, after the chain has normally finished, staggered so that they never overlap.
  const verifyAt = addHours(at, 2);
  for (const [id, flag, iso, shift] of [
    ['verify-daily', '--daily', 'P1D', 0],
    ['verify-weekly', '--weekly', 'P7D', 1],
    ['verify-monthly', '--monthly', 'P1M', 2],
  ] as const) {
    const calendar = durationToCalendar(iso, addHours(verifyAt, shift));
    job({
      id,
      script: 'verify.mts',
      args: [flag, ...common],
      timing: { kind: 'calendar', calendar },
      summary: `maintenance checklist ${flag}, ${calendar.description}`,
      notes: [],
    });
  }
  return { jobs, datasets, full };
}

/** A data set beside real-time state (same archive) whose paths may hold TOML: realtime-snapshot could take it. */
function snapshottable(policy: Readonly<Policy>, ds: Dataset): boolean {
  const besideState = Object.values(policy.datasets).some(
    (other) => other.frequency === 'realtime' && other.archive === ds.archive,
  );
  return besideState && ds.paths.some((p) => p.endsWith('/') || p.endsWith('.toml'));
}

function fullCalendar(iso: string, at: TimeOfDay): CalendarSpec {
  if (parseDuration(iso) < 86_400_000) {
    throw new ScheduleError(
      `schedule.full = ${iso}: full-backup writes one backup per date (arkalia_<YYYYMMDD>), so it cannot run more than once a day; use P1D, P7D or P1M`,
    );
  }
  try {
    return durationToCalendar(iso, at);
  } catch (error) {
    throw new ScheduleError(`schedule.full = ${iso}: ${(error as Error).message.replace(/^\S+: /, '')}`);
  }
}
