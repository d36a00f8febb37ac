import { watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { serviceName } from '../scenario/fields.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';
import { serviceContainer, serviceStateFile, startIfStopped } from './service-state.ts';

/** SIGKILL a service's container while it is writing its state file (frozen mid-write, then killed). */
const schema = z.strictObject({
  kind: z.literal('kill-service'),
  service: serviceName,
  /**
   * state-write: the careful stand-in's tmp + rename, caught with its temp file on disk;
   * in-place-write: a realistic writer's in-place rewrite (zeroia), caught with the file half
   * written; any: whenever.
   */
  during: z.enum(['state-write', 'in-place-write', 'any']).default('state-write'),
  attempts: z.number().int().min(1).max(200).default(40),
  /** Start it again after the kill, as Docker's `restart: unless-stopped` does (it then runs on what the kill left). */
  restart: z.boolean().default(false),
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
  } else if (fault.during === 'in-place-write') {
    const pid = (await container.inspect()).State.Pid;
    caught = await freezeMidInPlaceWrite(pid, statePath, fault.attempts);
  }
  await container.kill({ signal: 'SIGKILL' });
  await container.wait({ condition: 'not-running' });
  if (fault.restart) await container.start();
  return {
    kind: fault.kind,
    description: `${fault.service} killed (SIGKILL) ${caught}${fault.restart ? '; started again, as restart: unless-stopped would' : ''}`,
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

/**
 * Resolves once `pid` is frozen (SIGSTOP) with `statePath` half rewritten: a change of the
 * file is seen, the process frozen, and the file read; when it does not end with the
 * heartbeat's last line the write is in flight (torn). Otherwise resumed, and the next write tried.
 */
function freezeMidInPlaceWrite(pid: number, statePath: string, attempts: number): Promise<string> {
  const dir = dirname(statePath);
  const name = basename(statePath);
  return new Promise((resolve, reject) => {
    let tries = 0;
    let busy = false;
    const watcher = watch(dir, (_event, changed) => {
      if (busy || String(changed) !== name) return;
      busy = true;
      try {
        process.kill(pid, 'SIGSTOP');
      } catch (error) {
        return finish(new Error(`cannot freeze pid ${pid} from the host (${(error as NodeJS.ErrnoException).code})`));
      }
      readFile(statePath, 'utf8').then(
        (text) => {
          if (text.length === 0) {
            // Just truncated: let it write its first half, which the next change event shows.
            process.kill(pid, 'SIGCONT');
            busy = false;
            return;
          }
          if (!/\nwritten_at = "[^"]*"\n$/.test(text))
            return finish(
              null,
              `mid in-place write: frozen with ${name} torn at ${Buffer.byteLength(text)} bytes, at write ${tries + 1}`,
            );
          process.kill(pid, 'SIGCONT');
          tries += 1;
          busy = false;
          if (tries >= attempts)
            finish(new Error(`no in-place write of pid ${pid} caught half done in ${attempts} attempts`));
        },
        (error: Error) => finish(error),
      );
    });
    const timer = setTimeout(
      () => finish(new Error(`the service rewrote no state in ${attempts} s`)),
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
