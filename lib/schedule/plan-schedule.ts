import { parseDuration, type Policy } from '../policy/index.ts';
import { addHours, durationToCalendar, ScheduleError, type CalendarSpec, type TimeOfDay } from './calendar.ts';

// Which script runs when, from the policy. realtime-snapshot snapshots the [realtime] paths
// continuously; full-backup --point writes a recovery point as often as the most frequent
// data set needs (schedule.full at the latest), and each point re-archives only what is due
// and changed (the rest is hard-linked); prune and encrypted-backup follow each point that
// was published, in that order, and remote-sync each encryption that succeeded; verify.mts
// runs the runbook's checklist. A point runs at most every
// minute and only at intervals cron can keep exactly: a data set's frequency is honoured by
// the largest such interval that is not longer.

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
  /**
   * When `job` succeeded (its `successExit`), and, when `orderedAfter` is given, once that
   * job (started by the same success) has finished, whatever its result.
   */
  | { kind: 'after'; job: JobId; orderedAfter?: JobId };

export interface ScheduledJob {
  id: JobId;
  /** scripts/<script> */
  script: string;
  args: string[];
  timing: JobTiming;
  summary: string;
  /** Comment lines for the generated files. */
  notes: string[];
  /** Exit codes after which the jobs that follow it run (default: 0 only). */
  successExit?: number[];
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
  /** The full backup's schedule (the chain's): every point. */
  full: CalendarSpec;
  /** The interval of the points (an ISO duration): schedule.full, or a data set's shorter frequency. */
  pointEvery: string;
}

export interface ScheduleOptions {
  /** When the full backup runs (the runbook's 03:00). */
  at: TimeOfDay;
  /** Extra arguments per script (recipients, target, --policy): never secrets. */
  args?: Partial<Record<'common' | 'encrypted-backup' | 'remote-sync', readonly string[]>>;
}

/** Pure: the jobs and, per data set, what honours its frequency. ScheduleError (exit 2) when schedule.full cannot be run. */
export function planSchedule(policy: Readonly<Policy>, options: ScheduleOptions): SchedulePlan {
  const { at } = options;
  const common = [...(options.args?.common ?? [])];
  const daily = fullCalendar(policy.schedule.full, at);
  const pointEvery = pointInterval(policy);
  const pointMs = parseDuration(pointEvery);
  const full = pointEvery === policy.schedule.full ? daily : durationToCalendar(pointEvery, at);
  const jobs: ScheduledJob[] = [];
  const job = (j: ScheduledJob) => jobs.push(j);

  // 1. Data sets: real time → realtime-snapshot (and every point); the others → the points.
  const datasets = Object.entries(policy.datasets).map(([name, ds]): DatasetCoverage => {
    const base = { dataset: name, frequency: ds.frequency, paths: ds.paths };
    if (ds.frequency === 'realtime') {
      return {
        ...base,
        honouredBy: 'realtime-snapshot',
        note: `real-time snapshots of the [realtime] paths (${policy.realtime.paths.join(', ')}); the rest of ${ds.paths.join(', ')} goes into the full backup`,
      };
    }
    if (parseDuration(ds.frequency) >= pointMs)
      return {
        ...base,
        honouredBy: 'full-backup',
        note: `in the ${ds.archive} archive of every recovery point (${full.description}): archived again when ${ds.frequency} has elapsed since its capture and its files changed, else hard-linked`,
      };
    return {
      ...base,
      honouredBy: null,
      note: `NOT honoured: wanted every ${ds.frequency}, but a recovery point runs at most once a minute (these run ${full.description}); make it realtime (snapshots) or PT1M or longer`,
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

  // 3. Each point, then prune and the encrypted copy (once the point is published), then the
  // offsite copy (once the encryption succeeded). A failed point stops the chain.
  job({
    id: 'full-backup',
    script: 'full-backup.mts',
    args: ['--point', '--no-prune', ...common],
    timing: { kind: 'calendar', calendar: full },
    summary: `recovery point (full backup, unchanged archives hard-linked), ${full.description}`,
    notes: [
      "--point: the day's first run writes arkalia_<DATE>, later ones arkalia_<DATE>_<HHMM>; each archive is looked at when its data sets are due",
      '--no-prune: prune runs right after, as its own step (its own exit code and metrics)',
      'exit 3 (invalid state files archived as they are, named) still published the point: the chain goes on; the ArkaliaInvalidStateFiles alert reports them',
    ],
    successExit: [0, 3],
  });
  job({
    id: 'prune',
    script: 'prune.mts',
    args: [...common],
    timing: { kind: 'after', job: 'full-backup' },
    summary: `retention (daily_days ${policy.retention.daily_days}, points_hours ${policy.retention.points_hours ?? 48}), after each point`,
    notes: [],
  });
  job({
    id: 'encrypted-backup',
    script: 'encrypted-backup.mts',
    args: [...(options.args?.['encrypted-backup'] ?? []), ...common],
    timing: { kind: 'after', job: 'full-backup', orderedAfter: 'prune' },
    summary: 'encrypted copy of the offsite archives of the newest point, after prune (whatever prune found)',
    notes: options.args?.['encrypted-backup']?.length
      ? []
      : ['recipients from ARK_RECIPIENTS or ARK_KEYRING in its environment (none was given to schedule.mts)'],
  });
  job({
    id: 'remote-sync',
    script: 'remote-sync.mts',
    args: [...(options.args?.['remote-sync'] ?? []), ...common],
    timing: { kind: 'after', job: 'encrypted-backup' },
    summary: 'offsite copy of encrypted/, when encrypted-backup succeeded',
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
  return { jobs, datasets, full, pointEvery };
}

/** Exactly schedulable intervals, longest first (see calendar.ts). */
const EXACT_INTERVALS = [
  'PT12H',
  'PT8H',
  'PT6H',
  'PT4H',
  'PT3H',
  'PT2H',
  'PT1H',
  'PT30M',
  'PT20M',
  'PT15M',
  'PT10M',
  'PT5M',
  'PT1M',
];

/** How often points run: schedule.full, or the largest exact interval not longer than the most frequent data set's. */
function pointInterval(policy: Readonly<Policy>): string {
  const fullMs = parseDuration(policy.schedule.full);
  const shortest = Math.min(
    ...Object.values(policy.datasets)
      .filter((d) => d.frequency !== 'realtime')
      .map((d) => parseDuration(d.frequency))
      .filter((ms) => ms >= 60_000), // more often than a minute: not honoured (said so), never a point a minute for it
  );
  if (!(shortest < fullMs)) return policy.schedule.full;
  return EXACT_INTERVALS.find((iso) => parseDuration(iso) <= shortest)!;
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
