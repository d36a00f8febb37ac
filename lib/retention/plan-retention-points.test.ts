import { describe, expect, it } from 'vitest';
import { describeReason, planRetention, type RetentionCandidate, type RetentionSettings } from './plan-retention.ts';
import { deleted, kept, rules } from './testing.ts';

// Recovery points: later points of a day kept points_hours, then one a day.

const THIRTY: RetentionSettings = { daily_days: 30 };

describe('retention of recovery points (arkalia_<DATE>_<HHMM>)', () => {
  const points = (specs: string[]): RetentionCandidate[] =>
    specs.map((s) => ({ date: s.replace(/[!?]$/, ''), status: s.endsWith('!') ? 'corrupt' : 'verified' }));
  const planAt = (specs: string[], now: string, retention: RetentionSettings = THIRTY) => {
    const result = planRetention({ backups: points(specs), today: now.slice(0, 8), now, retention });
    if (result.kind !== 'plan') throw new Error('asked to verify');
    return result;
  };

  it('keeps every point for 48 hours, then one a day (its first), within daily_days', () => {
    const hourly = ['20261201', '20261201_0100', '20261201_1300', '20261130', '20261130_2300', '20261129_2200'];
    const p = planAt([...hourly, '20261129', '20261128_0400', '20261128_0500', '20261020'], '20261201_2200');
    expect(kept(p)).toEqual([
      '20261201_1300',
      '20261201_0100',
      '20261201',
      '20261130_2300',
      '20261130',
      '20261129_2200', // 48 hours old: still kept
      '20261129',
      '20261128_0400', // older than 48 h, but the first point of a day that has no arkalia_20261128
    ]);
    expect(deleted(p)).toEqual(['20261128_0500', '20261020']);
    expect(rules(p, '20261129_2200')).toEqual(['recent-point']);
    expect(rules(p, '20261128_0400')).toEqual(['day-first']);
    const expired = p.decisions.find((d) => d.date === '20261128_0500')!;
    expect(expired.reasons).toEqual([{ rule: 'expired-point', ageHours: 89, pointsHours: 48 }]);
    expect(describeReason(expired.reasons[0]!)).toMatch(/89 hour\(s\) old > points_hours 48/);
  });

  it('never deletes the newest point that verifies, whatever its age, and honours points_hours', () => {
    const p = planAt(['20261201_2100!', '20261201_1300', '20261201_0900', '20261120_0900'], '20261201_2300', {
      daily_days: 30,
      points_hours: 6,
    });
    expect(p.newestVerified).toBe('20261201_1300');
    expect(kept(p)).toEqual(['20261201_2100', '20261201_1300', '20261201_0900', '20261120_0900']);
    expect(rules(p, '20261201_2100')).toEqual(['recent-point']); // corrupt, but 2 hours old
    expect(rules(p, '20261201_1300')).toEqual(['newest-verified']); // 10 hours > 6
    expect(rules(p, '20261201_0900')).toEqual(['day-first']);
    expect(rules(p, '20261120_0900')).toEqual(['day-first']);
    const later = planAt(['20261201_1300', '20261201_1200', '20261201_0900'], '20261202_2300', {
      daily_days: 30,
      points_hours: 6,
    });
    expect(deleted(later)).toEqual(['20261201_1200']);
  });

  it('counts a day once for keep_daily, by its newest verifying point', () => {
    const p = planAt(['20261201_1300', '20261201', '20261101_1300', '20261101', '20261031_2300'], '20261203_0000', {
      daily_days: 1,
      points_hours: 1,
      keep_daily: 3,
    });
    expect(kept(p)).toEqual(['20261201_1300', '20261101_1300', '20261031_2300']);
  });
});
