import { watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { serviceName } from '../scenario/fields.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';
import { serviceContainer, serviceStateFile, startIfStopped } from './service-state.ts';

/** SIGKILL a service's container while it is writing its state file (frozen mid-write, then killed). */
const schema = z.strictObject({
  kind: z.literal('kill-service'),
  service: serviceName,
  during: z.enum(['state-write', 'any']).default('state-write'),
  attempts: z.number().int().min(1).max(200).default(40),
});

export const killServiceFault = defineFault({
  kind: 'kill-service',
  schema,
  needsStack: true,
  inject: injectKillService,
});

type KillService = z.infer<typeof schema>;

/**
 * SIGKILL a service's container while it is writing its state (during = "state-write"): the
 * harness watches the bind-mounted state folder; when the service's temp file appears it
 * freezes the process (SIGSTOP, from the host, no round trip) and, if the temp file is still
 * there, the write is in flight: the container is killed through Docker right then. Otherwise
 * the process is resumed and the next write is tried, up to `attempts` writes. The fault fails
 * when no write could be caught in flight: the drill would then prove nothing about it.
 * (The stand-in writes `<state>.tmp-<pid>`, renames it over the state: the state must stay
 * valid whatever the moment of the kill.) Revert starts the container if it is still down.
 */
export async function injectKillService(fault: KillService, ctx: FaultContext): Promise<InjectedFault> {
  const container = serviceContainer(ctx, fault.service);
  const statePath = join(ctx.root, serviceStateFile(fault.service));
  let caught = 'no write in flight was looked for';
  if (fault.during === 'state-write') {
    const pid = (await container.inspect()).State.Pid;
    caught = await freezeMidWrite(pid, statePath, fault.attempts);
  }
  await container.kill({ signal: 'SIGKILL' });
  return {
    kind: fault.kind,
    description: `${fault.service} killed (SIGKILL) ${caught}`,
    revert: () => startIfStopped(container),
  };
}

/** Resolves once `pid` is frozen (SIGSTOP) with its temp state file on disk; describes when. */
function freezeMidWrite(pid: number, statePath: string, attempts: number): Promise<string> {
  const dir = dirname(statePath);
  const prefix = `${basename(statePath)}.tmp-`;
  return new Promise((resolve, reject) => {
    let tries = 0;
    let busy = false;
    const watcher = watch(dir, (_event, name) => {
      if (busy || name === null || !String(name).startsWith(prefix)) return;
      busy = true;
      const tmp = join(dir, String(name));
      try {
        process.kill(pid, 'SIGSTOP');
      } catch (error) {
        return finish(
          new Error(
            `cannot freeze pid ${pid} from the host (${(error as NodeJS.ErrnoException).code}): is Docker on another machine?`,
          ),
        );
      }
      stat(tmp).then(
        (s) =>
          finish(
            null,
            `mid-write: frozen with ${String(name)} (${s.size} bytes) not yet renamed, at write ${tries + 1}`,
          ),
        () => {
          process.kill(pid, 'SIGCONT');
          tries += 1;
          busy = false;
          if (tries >= attempts)
            finish(new Error(`no state write of pid ${pid} caught in flight in ${attempts} attempts`));
        },
      );
    });
    const timer = setTimeout(
      () => finish(new Error(`the service wrote no state in ${attempts} s`)),
      attempts * 1000 + 5000,
    );
    function finish(error: Error | null, how = '') {
      clearTimeout(timer);
      watcher.close();
      if (error) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // gone already
        }
        reject(error);
      } else resolve(how);
    }
  });
}
