// Calendar arithmetic on backup dates (YYYYMMDD, the date in the folder name). Pure and
// time-zone free: a date is a calendar day, so ages are whole days and DST never shifts them.
// Plain integer arithmetic (no Date objects): a prune plans over years of backups at once.

const DATE = /^\d{8}$/;

/** Days since 1970-01-01 of a YYYYMMDD calendar date; RangeError for anything else. */
export function dayNumber(date: string): number {
  if (!DATE.test(date)) throw new RangeError(`not a YYYYMMDD date: ${JSON.stringify(date)}`);
  const n = Number(date);
  const year = Math.floor(n / 10_000);
  const month = Math.floor(n / 100) % 100;
  const day = n % 100;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month))
    throw new RangeError(`not a calendar date: ${JSON.stringify(date)}`);
  return civilToDays(year, month, day);
}

/** Minutes from stamp `from` to stamp `to` (YYYYMMDD = its midnight, or YYYYMMDD_HHMM), wall-clock (DST ignored). */
export function minutesBetween(from: string, to: string): number {
  const minutes = (stamp: string) => {
    const m = /^(\d{8})(?:_(\d{2})(\d{2}))?$/.exec(stamp);
    if (!m) throw new RangeError(`not a point stamp: ${JSON.stringify(stamp)}`);
    return dayNumber(m[1]!) * 1440 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  };
  return minutes(to) - minutes(from);
}

/** Whole calendar days from `date` to `today` (0 = today, 1 = yesterday, negative = future). */
export function ageInDays(date: string, today: string): number {
  return dayNumber(today) - dayNumber(date);
}

/** ISO-8601 week, e.g. "2026-W01". The week-year can differ from the date's year (20241230 → 2025-W01). */
export function isoWeekKey(date: string): string {
  const day = dayNumber(date);
  const weekday = ((((day + 3) % 7) + 7) % 7) + 1; // Monday = 1 … Sunday = 7 (1970-01-01 was a Thursday)
  const thursday = day + (4 - weekday); // a week belongs to the year of its Thursday
  let year = Number(date.slice(0, 4));
  if (thursday < civilToDays(year, 1, 1)) year -= 1;
  else if (thursday >= civilToDays(year + 1, 1, 1)) year += 1;
  const week = Math.floor((thursday - civilToDays(year, 1, 1)) / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** Calendar month, e.g. "2026-01". */
export function monthKey(date: string): string {
  dayNumber(date);
  return `${date.slice(0, 4)}-${date.slice(4, 6)}`;
}

/** Calendar day, e.g. "2026-01-31". */
export function dayKey(date: string): string {
  dayNumber(date);
  return `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Howard Hinnant's days_from_civil (proleptic Gregorian calendar).
function civilToDays(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
