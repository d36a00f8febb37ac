import { setTimeout as sleep } from 'node:timers/promises';
import { glob } from 'tinyglobby';
import { z } from 'zod';
import { durationSchema, parseDuration } from '../../lib/policy/index.ts';
import { runOperatorScript, type ScriptRunResult } from '../run-operator-script.ts';
import { inPath, location, placeholderString, SCRIPT_NAMES } from '../scenario/fields.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';
import { expandIn, faultPath } from './fault-path.ts';

/** An operator script started in the background and SIGKILLed mid-way: when `when` matches, or `after` a delay. */
const schema = z.strictObject({
  kind: z.literal('kill-script'),
  script: z.enum(SCRIPT_NAMES),
  args: z.array(placeholderString).default([]),
  when: z.strictObject({ in: location('backup'), glob: inPath }).optional(),
  after: durationSchema.optional(),
  timeout: durationSchema.default('PT60S'),
});

export const killScriptFault = defineFault({
  kind: 'kill-script',
  schema,
  needsStack: false,
  inject: injectKillScript,
});

type KillScript = z.infer<typeof schema>;

/**
 * An operator script (a backup, a snapshot watcher) killed with SIGKILL mid-way, as a crash or
 * an OOM kill would: started in the background with the drill's --root and --backup-dir, and
 * killed as soon as `when.glob` matches (e.g. its hidden partial folder appears) or `after` a
 * delay. A script that finishes before that makes the fault fail: nothing was interrupted.
 * What the killed run left (partial folders, a stale lock) is the recovery's job: revert only
 * makes sure the process is gone.
 */
export async function injectKillScript(fault: KillScript, ctx: FaultContext): Promise<InjectedFault> {
  const args = [...fault.args.map((a) => expandIn(ctx, a)), '--root', ctx.root, '--backup-dir', ctx.backupDir];
  const abort = new AbortController();
  const started = Date.now();
  const running = runOperatorScript(fault.script, args, {
    timeoutMs: parseDuration(fault.timeout),
    signal: abort.signal,
  });
  let finished: ScriptRunResult | null = null;
  void running.then((r) => (finished = r));

  const trigger = fault.when ? `${fault.when.in}:${expandIn(ctx, fault.when.glob)} appeared` : `${fault.after} passed`;
  const fired = await waitFor(fault, ctx, () => finished !== null);
  if (!fired) {
    abort.abort();
    const result = await running;
    throw new Error(
      `${fault.script} ${result.timedOut ? 'timed out' : `finished (exit ${result.exitCode})`} before ${trigger}: nothing was killed mid-way\n${result.stderr.slice(-2000)}`,
    );
  }
  abort.abort();
  const result = await running;
  return {
    kind: fault.kind,
    description: `${[fault.script, ...fault.args].join(' ')} killed (${result.signal ?? `exit ${result.exitCode}`}) ${Date.now() - started} ms after its start, when ${trigger}`,
    async revert() {
      abort.abort(); // idempotent; the process is already gone
      await running;
    },
  };
}

/** true when the trigger fired while the script still ran; false when it ended first. */
async function waitFor(fault: KillScript, ctx: FaultContext, ended: () => boolean): Promise<boolean> {
  if (fault.after !== undefined) {
    const until = Date.now() + parseDuration(fault.after);
    while (Date.now() < until) {
      if (ended()) return false;
      await sleep(5);
    }
    return !ended();
  }
  const cwd = faultPath(ctx, fault.when!.in, '.');
  const pattern = expandIn(ctx, fault.when!.glob);
  for (;;) {
    if (ended()) return false;
    if ((await glob(pattern, { cwd, dot: true, onlyFiles: false, expandDirectories: false })).length > 0)
      return !ended();
    await sleep(5);
  }
}
