import { describe, expect, it } from 'vitest';
import { ageInDays, isoWeekKey, monthKey } from './backup-calendar.ts';
import { deleted, kept, rules } from './testing.ts';
import {
  describeReason,
  planRetention,
  type RetentionCandidate,
  type RetentionInput,
  type RetentionPlan,
  type RetentionSettings,
  type VerifyStatus,
} from './plan-retention.ts';

const THIRTY: RetentionSettings = { daily_days: 30 };

/** Shorthand: "20261126" = verified, "20261126!" = corrupt, "20261126?" = unchecked. */
function candidates(specs: string[]): RetentionCandidate[] {
  return specs.map((s) => ({
    date: s.slice(0, 8),
    status: (s.endsWith('!') ? 'corrupt' : s.endsWith('?') ? 'unchecked' : 'verified') as VerifyStatus,
  }));
}

function plan(
  specs: string[],
  today: string,
  retention: RetentionSettings = THIRTY,
  protect: string[] = [],
): RetentionPlan {
  const result = planRetention({ backups: candidates(specs), today, retention, protect });
  if (result.kind !== 'plan') throw new Error(`plan asked to verify ${result.dates.join(', ')}`);
  return result;
}

/** `n` consecutive dates ending with `last` (newest first). */
function daysBack(last: string, n: number): string[] {
  const base = Date.UTC(Number(last.slice(0, 4)), Number(last.slice(4, 6)) - 1, Number(last.slice(6, 8)));
  return Array.from({ length: n }, (_, i) =>
    new Date(base - i * 86_400_000).toISOString().slice(0, 10).replaceAll('-', ''),
  );
}

describe('backup calendar', () => {
  it('counts whole calendar days, across month ends, leap days and year ends', () => {
    expect(ageInDays('20261126', '20261126')).toBe(0);
    expect(ageInDays('20261027', '20261126')).toBe(30);
    expect(ageInDays('20240228', '20240301')).toBe(2); // leap year
    expect(ageInDays('20230228', '20230301')).toBe(1);
    expect(ageInDays('20261231', '20270101')).toBe(1);
    expect(ageInDays('20261127', '20261126')).toBe(-1);
    // DST changes (Europe: 2026-03-29, 2026-10-25) do not exist for calendar dates.
    expect(ageInDays('20260328', '20260330')).toBe(2);
    expect(() => ageInDays('20260230', '20260301')).toThrow(RangeError);
    expect(() => ageInDays('2026-03-01', '20260301')).toThrow(RangeError);
  });

  it('names ISO weeks by the year of their Thursday', () => {
    expect(isoWeekKey('20201231')).toBe('2020-W53');
    expect(isoWeekKey('20210103')).toBe('2020-W53'); // Sunday, still 2020's last week
    expect(isoWeekKey('20210104')).toBe('2021-W01');
    expect(isoWeekKey('20241229')).toBe('2024-W52');
    expect(isoWeekKey('20241230')).toBe('2025-W01'); // Monday of 2025's first week
    expect(isoWeekKey('20260101')).toBe('2026-W01');
    expect(isoWeekKey('20261231')).toBe('2026-W53');
    expect(isoWeekKey('20270103')).toBe('2026-W53');
    expect(isoWeekKey('20270104')).toBe('2027-W01');
    expect(isoWeekKey('20261126')).toBe('2026-W48');
    expect(monthKey('20261126')).toBe('2026-11');
  });
});

describe('planRetention: daily_days', () => {
  it('keeps age 30, deletes age 31 (the runbook\'s "> 30 jours"), whatever else is there', () => {
    const p = plan(['20261126', '20261028', '20261027', '20261026', '20261025'], '20261126');
    expect(kept(p)).toEqual(['20261126', '20261028', '20261027']);
    expect(deleted(p)).toEqual(['20261026', '20261025']);
    expect(p.decisions.find((d) => d.date === '20261027')!.reasons).toEqual([
      { rule: 'recent', ageDays: 30, dailyDays: 30 },
    ]);
    expect(p.decisions.find((d) => d.date === '20261026')!.reasons).toEqual([
      { rule: 'expired', ageDays: 31, dailyDays: 30 },
    ]);
    expect(p.newestVerified).toBe('20261126');
  });

  it("uses the policy's daily_days, across a leap day and a year end", () => {
    expect(kept(plan(['20240301', '20240229', '20240228'], '20240301', { daily_days: 1 }))).toEqual([
      '20240301',
      '20240229',
    ]);
    expect(kept(plan(['20270101', '20261231', '20261230'], '20270101', { daily_days: 1 }))).toEqual([
      '20270101',
      '20261231',
    ]);
    const week = plan(daysBack('20261126', 10), '20261126', { daily_days: 7 });
    expect(kept(week)).toEqual(daysBack('20261126', 8));
  });

  it('keeps a backup dated in the future (clock skew) and says so', () => {
    const p = plan(['20261201', '20261126', '20260101'], '20261126');
    expect(kept(p)).toEqual(['20261201', '20261126']);
    expect(rules(p, '20261201')).toEqual(['future', 'newest-verified']);
    expect(describeReason(p.decisions[0]!.reasons[0]!)).toBe('dated 5 day(s) in the future (check the clock)');
  });

  it('an empty folder gives an empty plan', () => {
    expect(plan([], '20261126')).toEqual({ kind: 'plan', today: '20261126', decisions: [], newestVerified: null });
  });
});

describe('planRetention: the newest good backup survives', () => {
  it('all backups old: keeps only the newest, which verifies', () => {
    const p = plan(['20260301', '20260201', '20260101'], '20261126');
    expect(kept(p)).toEqual(['20260301']);
    expect(rules(p, '20260301')).toEqual(['newest-verified']);
    expect(deleted(p)).toEqual(['20260201', '20260101']);
  });

  it('newest corrupt but an older one good: the older good one is kept, not the corrupt one', () => {
    const p = plan(['20260301!', '20260201', '20260101'], '20261126');
    expect(kept(p)).toEqual(['20260201']);
    expect(deleted(p)).toEqual(['20260301', '20260101']);
    expect(p.newestVerified).toBe('20260201');
    expect(p.decisions.find((d) => d.date === '20260301')).toMatchObject({ action: 'delete', status: 'corrupt' });
  });

  it('newest (recent) corrupt and older ones expired: the recent one stays by age, the newest good one too', () => {
    const p = plan(['20261125!', '20261120!', '20260901!', '20260801', '20260701'], '20261126');
    expect(kept(p)).toEqual(['20261125', '20261120', '20260801']);
    expect(rules(p, '20261125')).toEqual(['recent']);
    expect(rules(p, '20260801')).toEqual(['newest-verified']);
    expect(deleted(p)).toEqual(['20260901', '20260701']);
  });

  it('all corrupt: nothing is deleted, whatever the age', () => {
    const p = plan(['20261125!', '20260301!', '20250101!'], '20261126');
    expect(deleted(p)).toEqual([]);
    expect(p.newestVerified).toBeNull();
    expect(rules(p, '20250101')).toEqual(['no-verified-backup']);
    expect(rules(p, '20261125')).toEqual(['recent', 'no-verified-backup']);
  });

  it('a backup written by this run is kept even when it is old and not the newest (a backfill)', () => {
    const p = plan(['20261126', '20250101', '20240101'], '20261126', THIRTY, ['20250101']);
    expect(kept(p)).toEqual(['20261126', '20250101']);
    expect(rules(p, '20250101')).toEqual(['protected']);
  });
});

describe('planRetention: GFS on top of daily_days', () => {
  it('keep_weekly keeps the newest good backup of each ISO week, across a year boundary', () => {
    // Sunday 2024-12-29 is 2024-W52; Monday 2024-12-30 to Sunday 2025-01-05 is 2025-W01.
    const p = plan(['20250107', '20250105', '20250101', '20241230', '20241229', '20241228', '20241222'], '20251201', {
      daily_days: 1,
      keep_weekly: 3,
    });
    expect(kept(p)).toEqual(['20250107', '20250105', '20241229']);
    expect(rules(p, '20250107')).toEqual(['newest-verified', 'weekly:2025-W02']);
    expect(rules(p, '20250105')).toEqual(['weekly:2025-W01']);
    expect(rules(p, '20241229')).toEqual(['weekly:2024-W52']);
    expect(p.decisions.find((d) => d.date === '20241229')!.reasons).toEqual([
      { rule: 'gfs', period: 'weekly', key: '2024-W52', rank: 3, count: 3 },
    ]);
  });

  it("a corrupt backup never fills a period: the week's next good one does, and a week with none does not count", () => {
    const p = plan(['20250107', '20250105!', '20250103', '20241229!', '20241222'], '20251201', {
      daily_days: 1,
      keep_weekly: 3,
    });
    // 2025-W02: 0107 · 2025-W01: 0105 corrupt → 0103 · 2024-W52: only a corrupt one, skipped · 2024-W51: 1222
    expect(kept(p)).toEqual(['20250107', '20250103', '20241222']);
    expect(rules(p, '20241222')).toEqual(['weekly:2024-W51']);
  });

  it('the ISO week 53 of 2026 spans the new year, and keeps one backup for both years', () => {
    const p = plan(['20270104', '20270103', '20270101', '20261231', '20261228', '20261227'], '20280101', {
      daily_days: 1,
      keep_weekly: 2,
    });
    expect(kept(p)).toEqual(['20270104', '20270103']);
    expect(rules(p, '20270103')).toEqual(['weekly:2026-W53']);
  });

  it('keep_monthly and keep_daily count only periods that hold a good backup; reasons accumulate', () => {
    const specs = ['20261126', '20261125', '20261124!', '20261001', '20260915', '20260801!', '20260715', '20260601'];
    const p = plan(specs, '20261126', { daily_days: 1, keep_daily: 3, keep_monthly: 3 });
    expect(rules(p, '20261126')).toEqual(['recent', 'newest-verified', 'daily:2026-11-26', 'monthly:2026-11']);
    expect(rules(p, '20261125')).toEqual(['recent', 'daily:2026-11-25']);
    expect(rules(p, '20261124')).toEqual(['expired']); // corrupt, 2 days old
    expect(rules(p, '20261001')).toEqual(['daily:2026-10-01', 'monthly:2026-10']);
    expect(rules(p, '20260915')).toEqual(['monthly:2026-09']);
    expect(deleted(p)).toEqual(['20261124', '20260801', '20260715', '20260601']);
  });

  it('periods are counted from the newest backup, including the daily_days window', () => {
    const dates = daysBack('20261126', 120).filter((_, i) => i % 7 === 0); // one a week, 18 weeks
    const p = plan(dates, '20261126', { daily_days: 30, keep_weekly: 8 });
    expect(kept(p)).toEqual(dates.slice(0, 8));
    expect(rules(p, dates[4]!)).toEqual(['recent', `weekly:${isoWeekKey(dates[4]!)}`]); // 28 days old
    expect(rules(p, dates[5]!)).toEqual([`weekly:${isoWeekKey(dates[5]!)}`]); // 35 days old: kept by keep_weekly only
    expect(rules(p, dates[8]!)).toEqual(['expired']);
  });

  it('rejects a duplicated date and a date that is not one', () => {
    expect(() =>
      planRetention({ backups: candidates(['20261126', '20261126']), today: '20261126', retention: THIRTY }),
    ).toThrow(/listed twice/);
    expect(() => planRetention({ backups: candidates(['20261131']), today: '20261126', retention: THIRTY })).toThrow(
      RangeError,
    );
  });
});

describe('planRetention: verification only where it decides something', () => {
  it('asks for the newest first, then the next only while none verifies', () => {
    const input = (specs: string[]): RetentionInput => ({
      backups: candidates(specs),
      today: '20261126',
      retention: THIRTY,
    });
    expect(planRetention(input(['20261126?', '20261125?', '20260101?']))).toEqual({
      kind: 'verify',
      dates: ['20261126'],
    });
    expect(planRetention(input(['20261126!', '20261125?', '20260101?']))).toEqual({
      kind: 'verify',
      dates: ['20261125'],
    });
    const done = planRetention(input(['20261126', '20261125?', '20260101?'])) as RetentionPlan;
    expect(done.kind).toBe('plan');
    expect(done.decisions.map((d) => [d.date, d.action, d.status])).toEqual([
      ['20261126', 'keep', 'verified'],
      ['20261125', 'keep', 'unchecked'],
      ['20260101', 'delete', 'unchecked'], // expired, and the newer good one makes its result irrelevant
    ]);
  });

  it("asks for each GFS period's candidate in the same round", () => {
    const r = planRetention({
      backups: candidates(['20261126', '20261020?', '20260915?', '20260914?']),
      today: '20261126',
      retention: { daily_days: 1, keep_monthly: 3 },
    });
    expect(r).toEqual({ kind: 'verify', dates: ['20261020'] });
    const r2 = planRetention({
      backups: candidates(['20261126', '20261020', '20260915?', '20260914?']),
      today: '20261126',
      retention: { daily_days: 1, keep_monthly: 3 },
    });
    expect(r2).toEqual({ kind: 'verify', dates: ['20260915'] });
  });

  it('deciding lazily gives the same plan as verifying everything first (randomised, seeded)', () => {
    const random = mulberry32(20261126);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const violations: string[] = []; // collected, then asserted once: expect() in a hot loop is slow
    let verifications = 0;
    let total = 0;
    for (let round = 0; round < 250; round += 1) {
      const today = pick(['20261126', '20270101', '20250105', '20240301']);
      const pool = daysBack(today, 420).concat(['20991231']);
      const backups = pool
        .filter(() => random() < 0.15)
        .map((date) => ({ date, status: (random() < 0.25 ? 'corrupt' : 'verified') as VerifyStatus }));
      const retention: RetentionSettings = {
        daily_days: pick([1, 7, 30, 90]),
        keep_daily: pick([undefined, 0, 3, 10]),
        keep_weekly: pick([undefined, 0, 2, 8]),
        keep_monthly: pick([undefined, 0, 1, 12]),
      };
      const protect = backups.length > 0 && random() < 0.2 ? [pick(backups).date] : [];
      const full = plan(
        backups.map((b) => `${b.date}${b.status === 'corrupt' ? '!' : ''}`),
        today,
        retention,
        protect,
      );
      const where = `round ${round} (today ${today}, ${JSON.stringify(retention)})`;

      // Invariants of the complete plan.
      const good = backups
        .filter((b) => b.status === 'verified')
        .map((b) => b.date)
        .sort()
        .reverse();
      if (full.newestVerified !== (good[0] ?? null)) violations.push(`${where}: newestVerified ${full.newestVerified}`);
      for (const d of full.decisions) {
        const mustKeep =
          d.ageDays <= retention.daily_days || d.date === good[0] || protect.includes(d.date) || good.length === 0;
        if (mustKeep && d.action !== 'keep') violations.push(`${where}: ${d.date} deleted`);
        if (d.action === 'delete' && d.ageDays <= retention.daily_days)
          violations.push(`${where}: ${d.date} deleted at age ${d.ageDays}`);
        if (d.reasons.some((r) => r.rule === 'gfs') && d.status !== 'verified')
          violations.push(`${where}: ${d.date} (${d.status}) kept by GFS`);
      }
      for (const period of ['daily', 'weekly', 'monthly'] as const) {
        const n = full.decisions
          .flatMap((d) => d.reasons)
          .filter((r) => r.rule === 'gfs' && r.period === period).length;
        if (n > (retention[`keep_${period}`] ?? 0)) violations.push(`${where}: ${n} ${period} keeps`);
      }

      // Lazily: start knowing nothing, verify only what the plan asks for.
      const truth = new Map(backups.map((b) => [b.date, b.status]));
      const known = new Map<string, VerifyStatus>(backups.map((b) => [b.date, 'unchecked']));
      const ask = () =>
        planRetention({ backups: [...known].map(([date, status]) => ({ date, status })), today, retention, protect });
      let lazy = ask();
      while (lazy.kind === 'verify') {
        for (const date of lazy.dates) {
          if (known.get(date) !== 'unchecked') violations.push(`${where}: asked twice for ${date}`);
          known.set(date, truth.get(date)!);
          verifications += 1;
        }
        lazy = ask();
      }
      total += backups.length;
      const shape = (p: RetentionPlan) => JSON.stringify(p.decisions.map((d) => [d.date, d.action, d.reasons]));
      if (shape(lazy) !== shape(full)) violations.push(`${where}: lazy plan differs`);
    }
    expect(violations).toEqual([]);
    expect(total).toBeGreaterThan(10_000);
    expect(verifications).toBeLessThan(total / 2); // the point of asking: most backups are never hashed
  });
});

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
