// schedule: the policy's frequencies as cron entries or systemd timers (pure: text in, text
// out; scripts/schedule.mts installs them). Failures handled: an interval cron or OnCalendar=
// cannot run exactly (PT7H, P2D: ScheduleError, exit 2), a full backup more often than daily
// (one backup per date), data sets no existing script can back up as often as the policy
// asks (said in the generated files, never papered over), values that would break the files
// (line breaks, relative paths; `%` and quotes escaped for cron and systemd).
export {
  addHours,
  durationToCalendar,
  formatTimeOfDay,
  parseTimeOfDay,
  ScheduleError,
  type CalendarSpec,
  type TimeOfDay,
} from './calendar.ts';
export {
  planSchedule,
  type DatasetCoverage,
  type JobId,
  type JobTiming,
  type ScheduledJob,
  type SchedulePlan,
  type ScheduleOptions,
} from './plan-schedule.ts';
export { checkScheduleEnv, jobArgv, type ScheduleEnv } from './schedule-env.ts';
export { CRON_FILE_NAME, chainOf, cronQuote, renderCron, shellChain } from './render-cron.ts';
export {
  RANDOMIZED_DELAY,
  renderSystemd,
  systemdQuote,
  unitName,
  unitsToEnable,
  type UnitFile,
} from './render-systemd.ts';
