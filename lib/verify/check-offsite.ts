import { SUMS_FILE } from '../layout/index.ts';
import { openRemote, parseTarget, type Remote } from '../offsite/index.ts';
import type { ChecklistOptions, Outcome } from './check-result.ts';

/** The --offsite target, opened (its backend loads only now). */
export function openOffsite(options: Pick<ChecklistOptions, 'offsite' | 'env'>): Promise<Remote> {
  return openRemote(parseTarget(options.offsite!), options.env ?? process.env);
}

/** Daily: the offsite lists, and holds a SHA256SUMS. */
export async function checkOffsite(options: ChecklistOptions): Promise<Outcome> {
  if (!options.offsite) return { status: 'skipped', detail: 'no --offsite TARGET (or ARK_OFFSITE) given' };
  const remote = await openOffsite(options);
  const listing = await remote.list();
  const data = { target: remote.target, files: listing.length };
  if (!listing.some((e) => e.name === SUMS_FILE))
    return {
      status: 'failed',
      detail: `${remote.target} is reachable (${listing.length} file(s)) but has no ${SUMS_FILE}: nothing there is vouched for`,
      data,
    };
  return { status: 'ok', detail: `${remote.target} reachable: ${listing.length} file(s), ${SUMS_FILE} present`, data };
}
