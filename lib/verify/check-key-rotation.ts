import { readKeyring } from '../crypto/index.ts';
import { KEY_ROTATION_DAYS, nowOf, type ChecklistOptions, type Outcome } from './check-result.ts';

/** Monthly: the current key older than 30 days is a warning (rotation due), not a failure; no current key: failed. */
export async function checkKeyRotation(options: ChecklistOptions): Promise<Outcome> {
  if (!options.keyring) return { status: 'skipped', detail: 'no --keyring DIR given' };
  const keyring = await readKeyring(options.keyring);
  const current = keyring.keys.find((k) => k.status === 'current');
  if (!current)
    return {
      status: 'failed',
      detail: `keyring ${options.keyring} has no current key (run keys.mts rotate --keyring ${options.keyring})`,
    };
  const age = Math.floor((nowOf(options).getTime() - Date.parse(current.created)) / 86_400_000);
  const data = { fingerprint: current.fingerprint, created: current.created, age_days: age };
  if (age > KEY_ROTATION_DAYS)
    return {
      status: 'warning',
      detail: `current key ${current.fingerprint} is ${age} days old (> ${KEY_ROTATION_DAYS}): rotation due — npm run keys -- rotate --keyring ${options.keyring}`,
      data,
    };
  return {
    status: 'ok',
    detail: `current key ${current.fingerprint} is ${age} day(s) old (rotation due after ${KEY_ROTATION_DAYS})`,
    data,
  };
}
