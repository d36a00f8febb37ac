import { UsageError } from '../../lib/errors.ts';

/** ARK_OFFSITE_RETRIES (capped at 10) and ARK_OFFSITE_RETRY_DELAY_MS, for the scripts that talk to an offsite. */
export function retryPolicyFromEnv(env: NodeJS.ProcessEnv): { retries?: number; minDelayMs?: number } {
  const int = (name: string) => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    if (!/^\d+$/.test(value)) throw new UsageError(`${name} must be a whole number, got ${JSON.stringify(value)}`);
    return Number(value);
  };
  const retries = int('ARK_OFFSITE_RETRIES');
  const minDelayMs = int('ARK_OFFSITE_RETRY_DELAY_MS');
  return {
    ...(retries === undefined ? {} : { retries: Math.min(retries, 10) }),
    ...(minDelayMs === undefined ? {} : { minDelayMs }),
  };
}
