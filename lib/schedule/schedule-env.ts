import { UsageError } from '../errors.ts';
import type { ScheduledJob } from './plan-schedule.ts';

/** Where things are on the host the schedule is for: absolute paths, the user, the environment. */
export interface ScheduleEnv {
  node: string;
  /**
   * arkalia-dr's bin/ark.mjs: a job runs `node ark.mjs <script> ARGS` (the bundle in dist/
   * while it matches the sources, the TypeScript sources through tsx otherwise).
   */
  ark: string;
  user: string;
  root: string;
  backupDir: string;
  metricsFile: string;
  /**
   * KEY=value lines with the jobs' secrets (ARK_PASSPHRASE, AWS_*, ...), if any. cron jobs read
   * it themselves (node --env-file: readable by the jobs' user only); systemd reads it as root
   * (EnvironmentFile=: root-only).
   */
  secretsFile?: string;
  /** 'built-in' or the policy file: for the header. */
  policySource: string;
}

/** The command line of a job: node (reading the secrets file when `readSecrets`), ark, the script's name, its arguments. */
export function jobArgv(
  env: ScheduleEnv,
  job: Pick<ScheduledJob, 'script'>,
  args: readonly string[],
  readSecrets: boolean,
): string[] {
  return [
    env.node,
    ...(readSecrets && env.secretsFile ? [`--env-file=${env.secretsFile}`] : []),
    env.ark,
    job.script.replace(/\.mts$/, ''),
    ...args,
  ];
}

/** Values that end up in generated files: one line each, and absolute where they are paths. */
export function checkScheduleEnv(env: ScheduleEnv): void {
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === 'string' && /[\n\r\0]/.test(value))
      throw new UsageError(`${name} must not contain a line break: ${JSON.stringify(value)}`);
  }
  for (const name of ['node', 'ark', 'root', 'backupDir', 'metricsFile', 'secretsFile'] as const) {
    const value = env[name];
    if (value !== undefined && !value.startsWith('/'))
      throw new UsageError(`${name} must be an absolute path, got ${JSON.stringify(value)}`);
  }
  if (!/^[a-z_][a-z0-9_-]*[$]?$/i.test(env.user) || env.user.length > 32)
    throw new UsageError(`--user must be a user name, got ${JSON.stringify(env.user)}`);
}
