import { ageInDays, dayKey, isoWeekKey, minutesBetween, monthKey } from './backup-calendar.ts';

// Which daily backups to keep and which to delete, and why. Pure: dates, verification
// results, today and the policy in; decisions out. See RETENTION_RULES for the rules in words.

/** The policy's [retention] table. */
export interface RetentionSettings {
  daily_days: number;
  keep_daily?: number | undefined;
  keep_weekly?: number | undefined;
  keep_monthly?: number | undefined;
  /** Later points of a day (arkalia_<DATE>_<HHMM>) are all kept this many hours (default 48). */
  points_hours?: number | undefined;
}

export const DEFAULT_POINTS_HOURS = 48;

/**
 * `verified`: every file its checksum file lists is there and matches (and the states archive is
 * listed). `corrupt`: anything less. `unchecked`: not verified yet; the plan asks for the ones
 * whose result matters (see planRetention), so an expired backup is never hashed for nothing.
 */
export type VerifyStatus = 'verified' | 'corrupt' | 'unchecked';

export interface RetentionCandidate {
  /** The point's stamp, from its folder name: YYYYMMDD (arkalia_<date>) or YYYYMMDD_HHMM. */
  date: string;
  status: VerifyStatus;
}

export type GfsPeriod = 'daily' | 'weekly' | 'monthly';

export type RetentionReason =
  | { rule: 'protected' }
  | { rule: 'future'; ageDays: number }
  | { rule: 'recent'; ageDays: number; dailyDays: number }
  | { rule: 'recent-point'; ageHours: number; pointsHours: number }
  | { rule: 'day-first'; ageDays: number; dailyDays: number }
  | { rule: 'newest-verified' }
  | { rule: 'gfs'; period: GfsPeriod; key: string; rank: number; count: number }
  | { rule: 'no-verified-backup' }
  | { rule: 'expired'; ageDays: number; dailyDays: number }
  | { rule: 'expired-point'; ageHours: number; pointsHours: number };

export interface RetentionDecision {
  date: string;
  action: 'keep' | 'delete';
  status: VerifyStatus;
  ageDays: number;
  /** Every rule that keeps it; for a deletion, the single `expired` reason. */
  reasons: RetentionReason[];
}

export interface RetentionPlan {
  kind: 'plan';
  today: string;
  /** Newest first. */
  decisions: RetentionDecision[];
  /** The backup the "never delete the newest good backup" rule protects; null when none verifies. */
  newestVerified: string | null;
}

/** The plan cannot be decided until these backups are verified (then call again). */
export interface VerificationNeeded {
  kind: 'verify';
  dates: string[];
}

export interface RetentionInput {
  backups: readonly RetentionCandidate[];
  /** YYYYMMDD: today as backup dates are written (local time, like `date +%Y%m%d`). */
  today: string;
  /** YYYYMMDD_HHMM: now, as point stamps are written (default: the end of `today`). */
  now?: string;
  retention: RetentionSettings;
  /** Dates this run must not delete whatever their age (full-backup: the backup it just wrote). */
  protect?: readonly string[];
}

export const RETENTION_RULES = `Retention (policy [retention]; a backup's age is today's date minus the date in its folder
name arkalia_YYYYMMDD, in whole calendar days; file times are never looked at):
  1. daily_days (default 30): a backup at most daily_days old is kept (age 30 is kept, age 31
     is not, like the runbook's "> 30 jours"). Backups dated in the future are kept.
  2. The newest backup that verifies (its checksum file lists the states archive, and every
     file it lists is present and matches) is kept whatever its age. A backup that does not
     verify never counts as that one: an older good backup is kept instead.
  3. keep_daily / keep_weekly / keep_monthly = N (optional, default 0): also keep the newest
     verifying backup of each of the N most recent calendar days / ISO weeks (Monday to
     Sunday; the week-year of 2024-12-30 is 2025) / calendar months that hold one. Periods
     with no verifying backup are skipped, so they do not use up N (as restic and borg count).
     The periods are counted from the newest backup, inside the daily_days window too: with
     daily_days = 30, keep_weekly = 8 reaches about 8 weeks back.
  4. If no backup verifies at all, nothing is deleted (exit 3): a damaged backup may still
     hold the only copy of some data, and an operator must look.
  5. Later points of a day (arkalia_YYYYMMDD_HHMM, taken at the data sets' own frequencies) are
     all kept for points_hours (default 48) hours, counted from the HHMM in their name; after
     that only one point a day stays (rule 1: the day's first, arkalia_YYYYMMDD, or the
     earliest point of a day that has none), unless rules 2-3 keep one.
  Everything else is deleted. Only real folders named arkalia_YYYYMMDD[_HHMM] are considered;
  hidden partial folders (.arkalia_*.partial-*), symbolic links and any other name are
  never touched. Archives that several points share are hard links: deleting one point
  frees only what no kept point links.`;

const GFS: readonly {
  period: GfsPeriod;
  setting: 'keep_daily' | 'keep_weekly' | 'keep_monthly';
  key: (date: string) => string;
}[] = [
  { period: 'daily', setting: 'keep_daily', key: (stamp) => dayKey(stampDay(stamp)) },
  { period: 'weekly', setting: 'keep_weekly', key: (stamp) => isoWeekKey(stampDay(stamp)) },
  { period: 'monthly', setting: 'keep_monthly', key: (stamp) => monthKey(stampDay(stamp)) },
];

/**
 * Decide, for each backup, keep or delete, with every reason. Asks for verification only of
 * backups whose result changes the plan: newest first until one verifies (rule 2), and per
 * GFS period newest first until one verifies (rule 3). Backups kept by age alone, or expired
 * and not needed by rules 2-3, are never verified. Deterministic; throws RangeError on a bad date.
 */
export function planRetention(input: RetentionInput): RetentionPlan | VerificationNeeded {
  const { today, retention } = input;
  const protect = new Set(input.protect ?? []);
  const sorted = [...input.backups].sort((a, b) => b.date.localeCompare(a.date));
  sorted.forEach((b, i) => {
    if (i > 0 && sorted[i - 1]!.date === b.date) throw new RangeError(`backup date ${b.date} listed twice`);
  });
  const ages = new Map(sorted.map((b) => [b.date, ageInDays(stampDay(b.date), today)]));
  const now = input.now ?? `${today}_2359`;
  const pointsHours = retention.points_hours ?? DEFAULT_POINTS_HOURS;
  // The point that stands for its day once its later points expire: the plain one, else the earliest.
  const dayFirst = new Map<string, string>();
  for (const b of [...sorted].reverse()) if (!dayFirst.has(stampDay(b.date))) dayFirst.set(stampDay(b.date), b.date);
  const needed = new Set<string>();

  // Rule 2: the newest backup that verifies.
  const anchor = firstVerified(sorted, needed);

  // Rule 3: the newest verifying backup of each of the N most recent periods that hold one.
  const gfs = new Map<string, RetentionReason[]>();
  for (const { period, setting, key } of GFS) {
    const count = retention[setting] ?? 0;
    let rank = 0;
    for (const [periodKey, members] of groupInOrder(sorted, key)) {
      if (rank >= count) break;
      const rep = firstVerified(members, needed);
      if (rep === undefined) break; // blocked on an unverified backup: its result decides the ranks after it
      if (rep === null) continue; // nothing good in this period: it does not count
      rank += 1;
      const reasons = gfs.get(rep.date) ?? [];
      reasons.push({ rule: 'gfs', period, key: periodKey, rank, count });
      gfs.set(rep.date, reasons);
    }
  }
  if (needed.size > 0) return { kind: 'verify', dates: [...needed].sort().reverse() };

  const newestVerified = anchor?.date ?? null;
  const decisions = sorted.map((b): RetentionDecision => {
    const ageDays = ages.get(b.date)!;
    const reasons: RetentionReason[] = [];
    if (protect.has(b.date)) reasons.push({ rule: 'protected' });
    const later = b.date.length > 8;
    const ageHours = later ? Math.floor(minutesBetween(b.date, now) / 60) : 0;
    if (ageDays < 0 || ageHours < 0) reasons.push({ rule: 'future', ageDays });
    else if (ageDays <= retention.daily_days) {
      if (!later) reasons.push({ rule: 'recent', ageDays, dailyDays: retention.daily_days });
      else if (ageHours <= pointsHours) reasons.push({ rule: 'recent-point', ageHours, pointsHours });
      else if (dayFirst.get(stampDay(b.date)) === b.date)
        reasons.push({ rule: 'day-first', ageDays, dailyDays: retention.daily_days });
    }
    if (b.date === newestVerified) reasons.push({ rule: 'newest-verified' });
    reasons.push(...(gfs.get(b.date) ?? []));
    if (newestVerified === null) reasons.push({ rule: 'no-verified-backup' });
    if (reasons.length > 0) return { date: b.date, action: 'keep', status: b.status, ageDays, reasons };
    return {
      date: b.date,
      action: 'delete',
      status: b.status,
      ageDays,
      reasons: [
        later && ageDays <= retention.daily_days
          ? { rule: 'expired-point', ageHours, pointsHours }
          : { rule: 'expired', ageDays, dailyDays: retention.daily_days },
      ],
    };
  });
  return { kind: 'plan', today, decisions, newestVerified };
}

/**
 * The first verified backup in newest-first order; null when all are corrupt; undefined when an
 * unchecked one comes first (it is added to `needed`, since its result decides the answer).
 */
function firstVerified(
  newestFirst: readonly RetentionCandidate[],
  needed: Set<string>,
): RetentionCandidate | null | undefined {
  for (const b of newestFirst) {
    if (b.status === 'verified') return b;
    if (b.status === 'unchecked') {
      needed.add(b.date);
      return undefined;
    }
  }
  return null;
}

function groupInOrder(
  newestFirst: readonly RetentionCandidate[],
  key: (date: string) => string,
): Map<string, RetentionCandidate[]> {
  const groups = new Map<string, RetentionCandidate[]>();
  for (const b of newestFirst) {
    const k = key(b.date);
    const members = groups.get(k) ?? [];
    members.push(b);
    groups.set(k, members);
  }
  return groups; // Map keeps insertion order: newest period first
}

/** One short human phrase per reason, for the operator and the --json output. */
export function describeReason(reason: RetentionReason): string {
  switch (reason.rule) {
    case 'protected':
      return 'written by this run';
    case 'future':
      return reason.ageDays < 0
        ? `dated ${-reason.ageDays} day(s) in the future (check the clock)`
        : 'dated later than now (check the clock)';
    case 'recent':
      return `age ${reason.ageDays} day(s) ≤ daily_days ${reason.dailyDays}`;
    case 'newest-verified':
      return 'newest backup that verifies';
    case 'gfs':
      return `${reason.period} ${reason.key} (${reason.rank} of keep_${reason.period} ${reason.count})`;
    case 'no-verified-backup':
      return 'no backup verifies: nothing is deleted';
    case 'expired':
      return `age ${reason.ageDays} day(s) > daily_days ${reason.dailyDays}`;
    case 'recent-point':
      return `a later point of its day, ${reason.ageHours} hour(s) old ≤ points_hours ${reason.pointsHours}`;
    case 'day-first':
      return `the point kept for its day (age ${reason.ageDays} day(s) ≤ daily_days ${reason.dailyDays})`;
    case 'expired-point':
      return `a later point of its day, ${reason.ageHours} hour(s) old > points_hours ${reason.pointsHours}; the day keeps its first point`;
  }
}

/** The calendar date of a point's stamp. */
const stampDay = (stamp: string): string => stamp.slice(0, 8);
