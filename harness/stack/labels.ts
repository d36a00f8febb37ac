import { hostname } from 'node:os';
import { ARK_LABEL } from '../image/index.ts';

export const RUN_LABEL = `${ARK_LABEL}.run`;
export const SERVICE_LABEL = `${ARK_LABEL}.service`;
/** `<hostname>:<pid>` of the process that made the object, to tell leftovers of killed runs. */
export const OWNER_LABEL = `${ARK_LABEL}.owner`;

export function stackLabels(runId: string, service?: string): Record<string, string> {
  return {
    [ARK_LABEL]: 'true',
    [RUN_LABEL]: runId,
    [OWNER_LABEL]: `${hostname()}:${process.pid}`,
    ...(service === undefined ? {} : { [SERVICE_LABEL]: service }),
  };
}

/** True when the owner label names a process of this host that no longer exists. */
export function ownerIsGone(owner: string | undefined): boolean {
  const [host, pid] = (owner ?? '').split(':');
  if (host !== hostname() || !pid) return owner === undefined;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
