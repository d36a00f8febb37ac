import { describe, expect, it } from 'vitest';
import { ageInDays, dayKey, dayNumber, isoWeekKey, minutesBetween, monthKey } from './backup-calendar.ts';

// The calendar a prune counts ages in: which YYYYMMDD are dates at all, days and minutes
// between stamps, and the period keys GFS groups by. Date.UTC is the oracle for day numbers.

const utcDay = (year: number, month: number, day: number) => Date.UTC(year, month - 1, day) / 86_400_000;
const stamp = (year: number, month: number, day: number) =>
  `${String(year).padStart(4, '0')}${String(month).padStart(2, '0')}${String(day).padStart(2, '0')}`;

describe('dayNumber', () => {
  it('counts days from 1970-01-01, before and after it', () => {
    expect(dayNumber('19700101')).toBe(0);
    expect(dayNumber('19700102')).toBe(1);
    expect(dayNumber('19691231')).toBe(-1);
    expect(dayNumber('20000101')).toBe(10_957);
    expect(dayNumber('20000301')).toBe(11_017);
    expect(dayNumber('21000301')).toBe(47_541);
  });

  it('agrees with the Gregorian calendar on every day from 1896 to 2104, and no day past a month end exists', () => {
    const wrong: string[] = [];
    for (let year = 1896; year <= 2104; year += 1) {
      for (let month = 1; month <= 12; month += 1) {
        const length = new Date(Date.UTC(year, month, 0)).getUTCDate();
        for (let day = 1; day <= length; day += 1) {
          const s = stamp(year, month, day);
          if (dayNumber(s) !== utcDay(year, month, day)) wrong.push(s);
        }
        const past = stamp(year, month, length + 1);
        if (!throwsRange(() => dayNumber(past))) wrong.push(`${past} accepted`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('knows the leap years: every 4th, not every 100th, but every 400th', () => {
    expect(dayNumber('20240229') - dayNumber('20240228')).toBe(1);
    expect(dayNumber('20000229') - dayNumber('20000228')).toBe(1);
    for (const notLeap of ['20230229', '19000229', '21000229', '20260229']) {
      expect(() => dayNumber(notLeap)).toThrow(`not a calendar date: "${notLeap}"`);
    }
    expect(() => dayNumber('20240230')).toThrow(RangeError);
  });

  it('has 30 days in April, June, September and November, 31 in the others', () => {
    for (const month of ['04', '06', '09', '11']) {
      expect(dayNumber(`2026${month}30`)).toBeGreaterThan(0);
      expect(() => dayNumber(`2026${month}31`)).toThrow(`not a calendar date: "2026${month}31"`);
    }
    for (const month of ['01', '03', '05', '07', '08', '10', '12']) {
      expect(dayNumber(`2026${month}31`) - dayNumber(`2026${month}30`)).toBe(1);
    }
  });

  it('refuses a month 0 or 13 and a day 0 or 32, naming the date', () => {
    for (const bad of ['20260001', '20261301', '20260100', '20260132', '20269901']) {
      expect(() => dayNumber(bad)).toThrow(new RangeError(`not a calendar date: "${bad}"`));
    }
  });

  it('refuses anything but eight digits, naming it', () => {
    for (const bad of ['2026-11-26', '2026112', '202611260', ' 20261126', '20261126_1200', '']) {
      expect(() => dayNumber(bad)).toThrow(new RangeError(`not a YYYYMMDD date: ${JSON.stringify(bad)}`));
    }
  });
});

describe('minutesBetween', () => {
  it('counts wall-clock minutes between a day (its midnight) and points of it', () => {
    expect(minutesBetween('20261126', '20261126')).toBe(0);
    expect(minutesBetween('20261126', '20261127')).toBe(1440);
    expect(minutesBetween('20261126', '20261126_0130')).toBe(90);
    expect(minutesBetween('20261126_2359', '20261127_0001')).toBe(2);
    expect(minutesBetween('20261127_0045', '20261126_2300')).toBe(-105);
    // A DST change (Europe, 2026-03-29) does not exist for stamps.
    expect(minutesBetween('20260329_0100', '20260329_0400')).toBe(180);
  });

  it('refuses what is not a stamp, whole, naming it', () => {
    for (const bad of ['x20261126', '20261126_1200x', '20261126_12', '20261126-1200', '2026112']) {
      expect(() => minutesBetween('20261126', bad)).toThrow(
        new RangeError(`not a point stamp: ${JSON.stringify(bad)}`),
      );
      expect(() => minutesBetween(bad, '20261126')).toThrow(
        new RangeError(`not a point stamp: ${JSON.stringify(bad)}`),
      );
    }
    expect(() => minutesBetween('20261131_1200', '20261126')).toThrow('not a calendar date: "20261131"');
  });
});

describe('ageInDays and the period keys', () => {
  it('ages are whole days, negative in the future', () => {
    expect(ageInDays('19991231', '20000301')).toBe(61);
    expect(ageInDays('20270101', '20261231')).toBe(-1);
  });

  it('puts a week whose Thursday is 1 January in the new year', () => {
    // 2026-01-01 is a Thursday: Monday 2025-12-29 already belongs to 2026-W01.
    expect(isoWeekKey('20251229')).toBe('2026-W01');
    expect(isoWeekKey('20251228')).toBe('2025-W52');
    expect(isoWeekKey('20260104')).toBe('2026-W01');
    expect(isoWeekKey('20260105')).toBe('2026-W02');
    // 2015-01-01 is a Thursday too, and 2015 has 53 weeks.
    expect(isoWeekKey('20141229')).toBe('2015-W01');
    expect(isoWeekKey('20160103')).toBe('2015-W53');
    expect(isoWeekKey('19700101')).toBe('1970-W01');
    expect(isoWeekKey('19691231')).toBe('1970-W01');
  });

  it('names months and days, and refuses a date that is not one', () => {
    expect(monthKey('20260131')).toBe('2026-01');
    expect(dayKey('20260131')).toBe('2026-01-31');
    expect(dayKey('20241201')).toBe('2024-12-01');
    expect(() => monthKey('20260230')).toThrow('not a calendar date: "20260230"');
    expect(() => dayKey('20260230')).toThrow('not a calendar date: "20260230"');
    expect(() => isoWeekKey('2026-01-01')).toThrow('not a YYYYMMDD date');
  });
});

function throwsRange(f: () => unknown): boolean {
  try {
    f();
    return false;
  } catch (error) {
    return error instanceof RangeError;
  }
}
