import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { serviceName } from '../scenario/fields.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';
import { serviceContainer, serviceStateFile, startIfStopped } from './service-state.ts';

/** SIGKILL a service's container while it is writing its state file (frozen mid-write, then killed). */
const schema = z.strictObject({
  kind: z.literal('kill-service'),
  service: serviceName,
  /** in-place-write: a writer's in-place rewrite (zeroia), caught with the file half written; any: whenever. */
  during: z.enum(['in-place-write', 'any']).default('in-place-write'),
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
 * SIGKILL a service's container while it is writing its state: the harness watches the
 * bind-mounted state folder; when the write shows (during = "in-place-write": the state file
 * half rewritten, torn) it freezes the process (SIGSTOP, from the host, no round trip) and,
 * if the write is still in flight, kills the container through Docker right then. Otherwise
 * the process is resumed and the next write is tried, up to `attempts` writes. The fault fails
 * when no write could be caught in flight: the drill would then prove nothing about it.
 * `restart`: started again after the kill, as `unless-stopped` would. Revert starts the
 * container if it is still down.
 */
export async function injectKillService(fault: KillService, ctx: FaultContext): Promise<InjectedFault> {
  const container = serviceContainer(ctx, fault.service);
  const statePath = join(ctx.root, serviceStateFile(fault.service));
  let caught = 'no write in flight was looked for';
  if (fault.during !== 'any') {
    const pid = (await container.inspect()).State.Pid;
    // The disk turns slow now (ARK_TEAR_MS), so that a write can be caught half done.
    process.kill(pid, 'SIGUSR2');
    caught = await freezeMidWrite(pid, dirname(statePath), fault.attempts, halfWritten(statePath));
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

/**
 * What a change in the watched folder means, looked at with the process frozen: not ours
 * (`ignore`: resumed, not counted), a write caught in flight (`caught`: stays frozen, with a
 * description), or a write that was already done (`missed`: resumed, the next one tried).
 */
type WriteCheck = (name: string, tries: number) => Promise<{ ignore: true } | { caught: string } | { missed: true }>;

/** A realistic in-place rewrite: caught when the file holds part of it (not empty, not ending with the heartbeat's last line). */
function halfWritten(statePath: string): { wants: (name: string) => boolean; check: WriteCheck } {
  const name = basename(statePath);
  return {
    wants: (changed) => changed === name,
    check: async (_changed, tries) => {
      const text = await readFile(statePath, 'utf8');
      // Just truncated: the first half comes with the next change event.
      if (text.length === 0) return { ignore: true };
      if (/\nwritten_at = "[^"]*"\n$/.test(text)) return { missed: true };
      return {
        caught: `mid in-place write: frozen with ${name} torn at ${Buffer.byteLength(text)} bytes, at write ${tries + 1}`,
      };
    },
  };
}

/**
 * Resolves once `pid` is frozen (SIGSTOP) in the middle of a write that `mode` recognises in
 * `dir`; describes when. Each change it wants freezes the process from the host (no round
 * trip) and is checked; a missed one resumes it, up to `attempts` writes.
 */
function freezeMidWrite(
  pid: number,
  dir: string,
  attempts: number,
  mode: { wants: (name: string) => boolean; check: WriteCheck },
): Promise<string> {
  return new Promise((resolve, reject) => {
    let tries = 0;
    let busy = false;
    const watcher = watch(dir, (_event, changed) => {
      if (busy || changed === null || !mode.wants(String(changed))) return;
      busy = true;
      try {
        process.kill(pid, 'SIGSTOP');
      } catch (error) {
        return finish(
          new Error(
            `cannot freeze pid ${pid} from the host (${(error as NodeJS.ErrnoException).code}): is Docker on another machine?`,
          ),
        );
      }
      mode.check(String(changed), tries).then(
        (verdict) => {
          if ('caught' in verdict) return finish(null, verdict.caught);
          process.kill(pid, 'SIGCONT');
          busy = false;
          if ('ignore' in verdict) return;
          tries += 1;
          if (tries >= attempts)
            finish(new Error(`no state write of pid ${pid} caught in flight in ${attempts} attempts`));
        },
        (error: Error) => finish(error),
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
