import { describe, expect, it } from 'vitest';
import {
  describeReason,
  planRetention,
  type RetentionCandidate,
  type RetentionInput,
  type RetentionPlan,
} from './plan-retention.ts';
import { deleted, kept, rules } from './testing.ts';

// What the operator reads for each decision (describeReason), and the plan rules behind the
// words: a point dated later than now, a point past daily_days, the default "now", the order
// in which the plan asks for verification.

const good = (...dates: string[]): RetentionCandidate[] => dates.map((date) => ({ date, status: 'verified' }));

function plan(input: RetentionInput): RetentionPlan {
  const result = planRetention(input);
  if (result.kind !== 'plan') throw new Error(`plan asked to verify ${result.dates.join(', ')}`);
  return result;
}

const reasonsOf = (p: RetentionPlan, date: string) => p.decisions.find((d) => d.date === date)!.reasons;

describe('describeReason', () => {
  it('says in words why each backup is kept or deleted', () => {
    expect(describeReason({ rule: 'protected' })).toBe('written by this run');
    expect(describeReason({ rule: 'future', ageDays: -2 })).toBe('dated 2 day(s) in the future (check the clock)');
    expect(describeReason({ rule: 'future', ageDays: 0 })).toBe('dated later than now (check the clock)');
    expect(describeReason({ rule: 'recent', ageDays: 3, dailyDays: 30 })).toBe('age 3 day(s) ≤ daily_days 30');
    expect(describeReason({ rule: 'newest-verified' })).toBe('newest backup that verifies');
    expect(describeReason({ rule: 'gfs', period: 'weekly', key: '2026-W48', rank: 2, count: 8 })).toBe(
      'weekly 2026-W48 (2 of keep_weekly 8)',
    );
    expect(describeReason({ rule: 'no-verified-backup' })).toBe('no backup verifies: nothing is deleted');
    expect(describeReason({ rule: 'expired', ageDays: 31, dailyDays: 30 })).toBe('age 31 day(s) > daily_days 30');
    expect(describeReason({ rule: 'recent-point', ageHours: 5, pointsHours: 48 })).toBe(
      'a later point of its day, 5 hour(s) old ≤ points_hours 48',
    );
    expect(describeReason({ rule: 'day-first', ageDays: 4, dailyDays: 30 })).toBe(
      'the point kept for its day (age 4 day(s) ≤ daily_days 30)',
    );
    expect(describeReason({ rule: 'expired-point', ageHours: 60, pointsHours: 48 })).toBe(
      'a later point of its day, 60 hour(s) old > points_hours 48; the day keeps its first point',
    );
  });

  it('describes every reason of a real plan', () => {
    const p = plan({
      backups: good('20261126_1300', '20261126', '20261020', '20260101'),
      today: '20261126',
      now: '20261126_1800',
      retention: { daily_days: 30, keep_monthly: 2 },
      protect: ['20260101'],
    });
    expect(p.decisions.map((d) => [d.date, d.reasons.map(describeReason)])).toEqual([
      [
        '20261126_1300',
        [
          'a later point of its day, 5 hour(s) old ≤ points_hours 48',
          'newest backup that verifies',
          'monthly 2026-11 (1 of keep_monthly 2)',
        ],
      ],
      ['20261126', ['age 0 day(s) ≤ daily_days 30']],
      ['20261020', ['monthly 2026-10 (2 of keep_monthly 2)']],
      ['20260101', ['written by this run']],
    ]);
  });
});

describe('planRetention: points and the clock', () => {
  it('keeps a point of today stamped later than now, as dated in the future', () => {
    const p = plan({
      backups: good('20261126_1300', '20261126'),
      today: '20261126',
      now: '20261126_1000',
      retention: { daily_days: 30 },
    });
    expect(reasonsOf(p, '20261126_1300')).toEqual([{ rule: 'future', ageDays: 0 }, { rule: 'newest-verified' }]);
    expect(describeReason(reasonsOf(p, '20261126_1300')[0]!)).toBe('dated later than now (check the clock)');
  });

  it('without `now`, counts the hours of points to the end of today', () => {
    const p = plan({
      backups: good('20261126_1300', '20261124_2300', '20261124_2200', '20261124'),
      today: '20261126',
      retention: { daily_days: 30 },
    });
    expect(reasonsOf(p, '20261126_1300')).toContainEqual({ rule: 'recent-point', ageHours: 10, pointsHours: 48 });
    expect(reasonsOf(p, '20261124_2300')).toEqual([{ rule: 'recent-point', ageHours: 48, pointsHours: 48 }]);
    expect(reasonsOf(p, '20261124_2200')).toEqual([{ rule: 'expired-point', ageHours: 49, pointsHours: 48 }]);
    expect(deleted(p)).toEqual(['20261124_2200']);
  });

  it('a later point at exactly daily_days days is deleted as an expired point, one older as expired', () => {
    const p = plan({
      backups: good('20261126', '20261027_1200', '20261027', '20261026_1200', '20261026'),
      today: '20261126',
      now: '20261126_1200',
      retention: { daily_days: 30 },
    });
    expect(kept(p)).toEqual(['20261126', '20261027']);
    expect(reasonsOf(p, '20261027_1200')).toEqual([{ rule: 'expired-point', ageHours: 720, pointsHours: 48 }]);
    expect(reasonsOf(p, '20261026_1200')).toEqual([{ rule: 'expired', ageDays: 31, dailyDays: 30 }]);
    expect(reasonsOf(p, '20261026')).toEqual([{ rule: 'expired', ageDays: 31, dailyDays: 30 }]);
    expect(describeReason(reasonsOf(p, '20261026_1200')[0]!)).toBe('age 31 day(s) > daily_days 30');
  });

  it('the earliest point of a day without a plain backup stands for the day, not a later one', () => {
    const p = plan({
      backups: good('20261126', '20261120_1800', '20261120_0600'),
      today: '20261126',
      retention: { daily_days: 30, points_hours: 1 },
    });
    expect(rules(p, '20261120_0600')).toEqual(['day-first']);
    expect(rules(p, '20261120_1800')).toEqual(['expired-point']);
  });
});

describe('planRetention: what it asks to verify', () => {
  it('lists every backup it needs newest first, whichever rule asked first', () => {
    // 2026-W40 runs from Monday 28 September to Sunday 4 October. keep_daily asks for 3
    // October, keep_weekly for 25 September (the next week's newest), keep_monthly for 30
    // September (September's newest): asked in that order, listed newest first.
    const r = planRetention({
      backups: [
        { date: '20261004', status: 'verified' },
        { date: '20261003', status: 'unchecked' },
        { date: '20260930', status: 'unchecked' },
        { date: '20260925', status: 'unchecked' },
        { date: '20260901', status: 'unchecked' },
      ],
      today: '20261004',
      retention: { daily_days: 1, keep_daily: 2, keep_weekly: 2, keep_monthly: 2 },
    });
    expect(r).toEqual({ kind: 'verify', dates: ['20261003', '20260930', '20260925'] });
  });

  it('asks nothing of a backup kept or deleted whatever it holds', () => {
    const p = plan({
      backups: [
        { date: '20261126', status: 'verified' },
        { date: '20261120', status: 'unchecked' },
        { date: '20260101', status: 'unchecked' },
      ],
      today: '20261126',
      retention: { daily_days: 30 },
    });
    expect(kept(p)).toEqual(['20261126', '20261120']);
    expect(deleted(p)).toEqual(['20260101']);
  });
});
