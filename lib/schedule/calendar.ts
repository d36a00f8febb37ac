import { ArkError, EXIT, UsageError } from '../errors.ts';

// ISO-8601 durations as wall-clock schedules, for cron (five fields) and systemd (OnCalendar=).
// Only what both can express *exactly* is accepted: runs evenly spaced by the duration across
// midnight and month ends. cron and OnCalendar= count calendar time, so an interval that does
// not divide an hour or a day (PT7H, PT90M) or a number of days other than 1 and 7 (P2D) has
// no exact form, and is refused with the reason and what to use instead.

export interface TimeOfDay {
  hour: number;
  minute: number;
}

export interface CalendarSpec {
  /** cron's five fields: minute hour day-of-month month day-of-week. */
  cron: string;
  /** systemd's OnCalendar= (normalized form, as `systemd-analyze calendar` prints it). */
  onCalendar: string;
  /** "every 6 h at 03:00, 09:00, 15:00 and 21:00" */
  description: string;
}

/** A duration cron and systemd cannot run exactly. Exit 2: the policy or the flag must change. */
export class ScheduleError extends ArkError {
  constructor(message: string) {
    super('SCHEDULE_INEXACT', message, { exitCode: EXIT.usage });
  }
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const ISO = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const HOUR_STEPS = [1, 2, 3, 4, 6, 8, 12];
const MINUTE_STEPS = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];
const USE_INSTEAD = `use PT1M…PT30M dividing an hour (${MINUTE_STEPS.map((m) => `PT${m}M`).join(', ')}), PT1H…PT12H dividing a day (${HOUR_STEPS.map((h) => `PT${h}H`).join(', ')}), P1D, P7D or P1M`;

/** "03:00" → { hour: 3, minute: 0 }; UsageError otherwise. */
export function parseTimeOfDay(text: string, flag = '--at'): TimeOfDay {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text);
  if (!m) throw new UsageError(`${flag} must be a time of day as HH:MM (00:00 to 23:59), got ${JSON.stringify(text)}`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
}

export function formatTimeOfDay(at: TimeOfDay): string {
  return `${pad(at.hour)}:${pad(at.minute)}`;
}

/** `at` moved by whole hours, wrapping at midnight. */
export function addHours(at: TimeOfDay, hours: number): TimeOfDay {
  return { hour: (((at.hour + hours) % 24) + 24) % 24, minute: at.minute };
}

/**
 * The schedule that runs every `iso`, anchored at `at` (sub-daily intervals run at `at` and
 * every interval before and after it; weekly on `weekday`, 0 = Sunday; monthly on the 1st).
 * Throws ScheduleError for a duration that has no exact cron/OnCalendar form.
 */
export function durationToCalendar(iso: string, at: TimeOfDay, options: { weekday?: number } = {}): CalendarSpec {
  const m = ISO.exec(iso);
  if (!m || iso === 'P' || iso.endsWith('T'))
    throw new ScheduleError(
      `${JSON.stringify(iso)} is not an ISO-8601 duration such as PT6H or P1D (fractions are not schedulable)`,
    );
  const [years, months, weeks, days, hours, minutes, secs] = m
    .slice(1)
    .map((v) => (v === undefined ? 0 : Number(v))) as [number, number, number, number, number, number, number];
  const time = formatTimeOfDay(at);
  if (years > 0 || months > 0) {
    if (years === 0 && months === 1 && weeks + days + hours + minutes + secs === 0) {
      return {
        cron: `${at.minute} ${at.hour} 1 * *`,
        onCalendar: `*-*-01 ${time}:00`,
        description: `monthly on the 1st at ${time}`,
      };
    }
    throw new ScheduleError(
      `${iso}: only P1M (monthly, on the 1st) is schedulable among durations in months or years; ${USE_INSTEAD}`,
    );
  }
  if (secs % 60 !== 0)
    throw new ScheduleError(`${iso}: cron and OnCalendar= schedules have a resolution of one minute; ${USE_INSTEAD}`);
  const total = ((weeks * 7 + days) * 24 + hours) * 60 + minutes + secs / 60;
  if (total === 0) throw new ScheduleError(`${iso}: a zero interval cannot be scheduled`);

  if (total < 60) {
    if (!MINUTE_STEPS.includes(total))
      throw new ScheduleError(
        `${iso}: every ${total} min cannot be scheduled exactly (60 is not a multiple of ${total}, so the gap across each hour would differ); ${USE_INSTEAD}`,
      );
    const start = at.minute % total;
    const cronMinutes = total === 1 ? '*' : start === 0 ? `*/${total}` : `${start}-59/${total}`;
    return {
      cron: `${cronMinutes} * * * *`,
      onCalendar: `*-*-* *:${pad(start)}/${total}:00`,
      description: total === 1 ? 'every minute' : `every ${total} min (from minute ${start} of each hour)`,
    };
  }
  if (total % 60 !== 0)
    throw new ScheduleError(
      `${iso}: ${total} min is not a whole number of hours and longer than an hour, which cron and OnCalendar= cannot space evenly; ${USE_INSTEAD}`,
    );
  const step = total / 60;
  if (step < 24) {
    if (!HOUR_STEPS.includes(step))
      throw new ScheduleError(
        `${iso}: every ${step} h cannot be scheduled exactly (24 h is not a multiple of ${step} h, so the gap across midnight would differ); ${USE_INSTEAD}`,
      );
    const hoursList = Array.from({ length: 24 / step }, (_, i) => (at.hour % step) + i * step);
    const cronHours = step === 1 ? '*' : hoursList.join(',');
    const systemdHours = step === 1 ? '*' : hoursList.map(pad).join(',');
    const description =
      step === 1
        ? `hourly at minute ${at.minute}`
        : `every ${step} h at ${joinAnd(hoursList.map((h) => `${pad(h)}:${pad(at.minute)}`))}`;
    return {
      cron: `${at.minute} ${cronHours} * * *`,
      onCalendar: `*-*-* ${systemdHours}:${pad(at.minute)}:00`,
      description,
    };
  }
  if (step === 24)
    return { cron: `${at.minute} ${at.hour} * * *`, onCalendar: `*-*-* ${time}:00`, description: `daily at ${time}` };
  if (step === 24 * 7) {
    const weekday = options.weekday ?? 0;
    return {
      cron: `${at.minute} ${at.hour} * * ${weekday}`,
      onCalendar: `${WEEKDAYS[weekday]} *-*-* ${time}:00`,
      description: `weekly on ${DAY_NAMES[weekday]} at ${time}`,
    };
  }
  throw new ScheduleError(
    `${iso}: every ${step % 24 === 0 ? `${step / 24} days` : `${step} h`} cannot be scheduled exactly (calendar schedules restart each month, and months are not a multiple of it); ${USE_INSTEAD}`,
  );
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function joinAnd(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
