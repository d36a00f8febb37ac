import { hostname } from 'node:os';
import { ARK_LABEL } from '../image/index.ts';

export const RUN_LABEL = `${ARK_LABEL}.run`;
export const SERVICE_LABEL = `${ARK_LABEL}.service`;
/**
 * `<hostname>:<pid>` of the process that owns the run, to tell leftovers of killed runs
 * from a live run. The drills' global setup names itself (ARK_DR_OWNER_PID) so the stacks
 * its test workers start are owned by the vitest process that outlives them.
 */
export const OWNER_LABEL = `${ARK_LABEL}.owner`;

export function ownerId(env: NodeJS.ProcessEnv = process.env): string {
  return `${hostname()}:${env.ARK_DR_OWNER_PID ?? process.pid}`;
}

export function stackLabels(runId: string, service?: string): Record<string, string> {
  return {
    [ARK_LABEL]: 'true',
    [RUN_LABEL]: runId,
    [OWNER_LABEL]: ownerId(),
    ...(service === undefined ? {} : { [SERVICE_LABEL]: service }),
  };
}

/** True when nobody can still be using the object: its owner process on this host is gone. */
export function ownerIsGone(owner: string | undefined): boolean {
  if (owner === undefined) return true;
  const [host, pid] = owner.split(':');
  // A process on another machine (remote DOCKER_HOST) cannot be checked: assume alive.
  if (host !== hostname()) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
