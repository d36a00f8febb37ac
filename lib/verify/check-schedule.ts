import { dailyDir, localDateStamp, stampDate } from '../layout/index.ts';
import { parseDuration } from '../policy/index.ts';
import { ageInDays } from '../retention/index.ts';
import { dailyBackups, nowOf, type ChecklistOptions, type Outcome } from './check-result.ts';

/** Daily: the newest backup or recovery point (by its folder date) is at most schedule.full + 1 day old. */
export async function checkSchedule(options: ChecklistOptions): Promise<Outcome> {
  const all = await dailyBackups(options);
  if (all.length === 0) return { status: 'failed', detail: `no daily backup in ${dailyDir(options.backupDir)}` };
  const newest = all[0]!;
  const limitDays = Math.ceil(parseDuration(options.policy.schedule.full) / 86_400_000) + 1;
  const age = ageInDays(stampDate(newest.date), localDateStamp(nowOf(options))); // a later point of a day: that day
  const data = { newest: newest.date, age_days: age, limit_days: limitDays };
  if (age > limitDays)
    return {
      status: 'failed',
      detail: `newest backup ${newest.name} is ${age} days old (schedule ${options.policy.schedule.full} + 1 day allows ${limitDays}): backups did not run on schedule`,
      data,
    };
  return { status: 'ok', detail: `newest backup ${newest.name} is ${age} day(s) old (limit ${limitDays})`, data };
}
