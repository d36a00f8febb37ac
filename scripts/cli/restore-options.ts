import type { ParseArgsConfig } from 'node:util';
import { EXIT, UsageError } from '../../lib/errors.ts';
import type { ComposeProject } from '../../lib/compose/index.ts';
import type { Policy } from '../../lib/policy/index.ts';
import type { ServiceController } from '../../lib/services/index.ts';
import { policyLocation, type CommonOptions } from './parse-options.ts';
import type { ScriptContext, ScriptOutcome } from './run-script.ts';

// Flags every restore script shares (emergency-restore, disaster-recovery; disk-recovery
// later), the SIGINT/SIGTERM handling of a restore, and the test-only pause hook.
// Only node: and lib/errors imports here (and types): --help and usage errors answer at once.

export const RESTORE_OPTIONS = {
  services: { type: 'string' },
  compose: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  resume: { type: 'boolean', default: false },
  'no-snapshots': { type: 'boolean', default: false },
  'max-bytes': { type: 'string' },
  'max-entries': { type: 'string' },
  'max-ratio': { type: 'string' },
  'lock-timeout': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const SERVICES_HELP = `  --services compose|docker|none
                           how the containers are stopped and started: compose (docker
                           compose up -d --no-deps, which also recreates a container that is
                           gone), docker (by container name), or none (leave them alone).
                           Default: compose when there is a compose file and the Compose v2
                           CLI, else docker. Either way, every running container that
                           bind-mounts what is restored is stopped first, and named.
  --compose FILE           the compose file the services come from (default: the root's
                           docker-compose.yml, or the policy's [compose] file)`;

export const RESTORE_HELP = `${SERVICES_HELP}
  --dry-run                print the plan (backup, rejected backups, files with current and
                           backup sha256, services) and change nothing
  --resume                 only settle what an interrupted restore left: roll its unfinished
                           swap back (the live files return exactly as they were), or finish
                           one that had committed; then start the services it had stopped.
                           (Every restore does this first anyway.)
  --no-snapshots           use the daily backup only, not newer real-time snapshots
  --max-bytes SIZE         stop if the archives decompress to more than SIZE in all
                           (e.g. 512M, 4G; default 4G)
  --max-entries N          stop past N archive entries (default: twice what the manifest
                           declares + 1000, or 200000)
  --max-ratio N            stop past an N:1 compression ratio (default 200; checked after
                           the first 16 MiB)
  --lock-timeout T         wait at most T for a backup, prune or restore of the same backup
                           folder (seconds, or PT10M; default PT10M)`;

export interface RestoreSettings {
  /** undefined: compose when there is a compose file and the Compose CLI, else docker. */
  services: 'compose' | 'docker' | 'none' | undefined;
  /** --compose FILE. */
  compose: string | undefined;
  dryRun: boolean;
  resume: boolean;
  /** undefined: the pipeline's default (snapshots unless a date is named). */
  snapshots: false | undefined;
  limits: { maxBytes?: number; maxEntries?: number; maxRatio?: number };
  lockTimeoutMs: number | undefined;
}

export function restoreSettings(
  values: Record<string, unknown>,
  parsers: { parseSize: (s: string) => number | null; parseLockTimeout: (s: string | undefined) => number },
): RestoreSettings {
  const services = servicesKind(values.services);
  const limits: RestoreSettings['limits'] = {};
  if (typeof values['max-bytes'] === 'string') {
    const size = parsers.parseSize(values['max-bytes']);
    if (size === null)
      throw new UsageError(`--max-bytes must be a size such as 512M or 4G, got ${JSON.stringify(values['max-bytes'])}`);
    limits.maxBytes = size;
  }
  for (const [flag, key] of [
    ['max-entries', 'maxEntries'],
    ['max-ratio', 'maxRatio'],
  ] as const) {
    const text = values[flag];
    if (typeof text !== 'string') continue;
    if (!/^[1-9]\d*$/.test(text))
      throw new UsageError(`--${flag} must be a positive whole number, got ${JSON.stringify(text)}`);
    limits[key] = Number(text);
  }
  if (values.resume === true && values['dry-run'] === true)
    throw new UsageError(
      '--resume and --dry-run cannot be combined: --resume changes files (it rolls an interrupted swap back)',
    );
  return {
    services,
    compose: typeof values.compose === 'string' ? values.compose : undefined,
    dryRun: values['dry-run'] === true,
    resume: values.resume === true,
    snapshots: values['no-snapshots'] === true ? false : undefined,
    limits,
    lockTimeoutMs:
      typeof values['lock-timeout'] === 'string' ? parsers.parseLockTimeout(values['lock-timeout']) : undefined,
  };
}

/**
 * SIGINT / SIGTERM during a restore: the pipeline stops at its next safe point; in the swap it
 * rolls back first, so the process does not exit with the live tree half swapped. A second
 * signal exits at once, which is safe too: like a SIGKILL, it leaves the journal, and the next
 * run rolls back.
 */
export function abortOnSignals(say: (line: string) => void): AbortSignal {
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (controller.signal.aborted) {
        // Insisting is safe: a swap in progress is journaled, and the next run rolls it back.
        say(
          `✗ ${signal} again: exiting now. If a swap was in progress, the next restore (or --resume) rolls it back first.`,
        );
        process.exit(130);
      }
      say(`⏸ ${signal}: stopping at the next safe point (a swap in progress is rolled back first)`);
      controller.abort(new Error(`received ${signal}`));
    });
  }
  return controller.signal;
}

/**
 * TEST ONLY. ARK_TEST_PAUSE_AT=<point> ("staged", "swap:N" after the Nth file swapped,
 * "committed") makes the restore print `ARK_TEST_PAUSED <point>` on stderr and wait there until
 * it is signalled, so a test can SIGKILL it at an exact point of the swap. Never set it in
 * production: a restore paused there holds the services stopped and the backup folder locked.
 */
export function testPauseHook(
  env: NodeJS.ProcessEnv,
  signal: AbortSignal,
  say: (line: string) => void,
): ((point: string) => Promise<void>) | undefined {
  const wanted = env.ARK_TEST_PAUSE_AT;
  if (!wanted) return undefined;
  return async (point) => {
    if (point !== wanted) return;
    say(`ARK_TEST_PAUSED ${point}`);
    if (signal.aborted) return;
    await new Promise<void>((resolve) => {
      const alive = setInterval(() => {}, 60_000); // keep the event loop alive while paused
      signal.addEventListener('abort', () => (clearInterval(alive), resolve()), { once: true });
    });
  };
}

/** What both restore scripts set up once their arguments parse. */
export interface RestoreRun {
  policy: Policy;
  policySource: string;
  services: ServiceController;
  /** Why these services, these containers: said once at the start. */
  servicesNote: string;
  /** The compose file the services came from, if any (--boot runs it on the sandbox). */
  compose: ComposeProject | null;
  /** Aborted by SIGINT/SIGTERM (see abortOnSignals). */
  signal: AbortSignal;
  /** Spread into the pipeline's options: the --lock-timeout, when given. */
  lock: { lockTimeoutMs?: number };
}

export async function prepareRestore(
  common: CommonOptions,
  settings: RestoreSettings,
  ctx: Pick<ScriptContext, 'say'>,
): Promise<RestoreRun> {
  const { policy, source, services, note, compose } = await loadServices(common, settings);
  return {
    policy,
    policySource: source,
    services,
    servicesNote: note,
    compose,
    signal: abortOnSignals(ctx.say),
    lock: settings.lockTimeoutMs === undefined ? {} : { lockTimeoutMs: settings.lockTimeoutMs },
  };
}

/**
 * The policy with its services completed from the compose file (--compose FILE, else the
 * policy's [compose] file in the root), and the controller that drives them.
 */
export async function loadServices(
  common: CommonOptions,
  settings: Pick<RestoreSettings, 'services' | 'compose'>,
): Promise<{
  policy: Policy;
  source: string;
  services: ServiceController;
  note: string;
  compose: ComposeProject | null;
}> {
  const [{ loadPolicy }, { resolveServices }] = await Promise.all([
    import('../../lib/policy/index.ts'),
    import('../../lib/pipeline/restore-services.ts'),
  ]);
  const loaded = await loadPolicy(policyLocation(common));
  const resolved = await resolveServices({
    loaded,
    root: common.root,
    kind: settings.services,
    ...(settings.compose === undefined ? {} : { composeFile: settings.compose }),
  });
  return {
    policy: resolved.policy,
    source: loaded.source,
    services: resolved.controller,
    note: resolved.note,
    compose: resolved.compose,
  };
}

/** --services KIND, checked; undefined when not given. */
export function servicesKind(value: unknown): RestoreSettings['services'] {
  if (value === undefined) return undefined;
  if (value !== 'compose' && value !== 'docker' && value !== 'none')
    throw new UsageError(`--services must be "compose", "docker" or "none", got ${JSON.stringify(value)}`);
  return value;
}

/** --resume: settle an interrupted restore of the live root from its journal (roll it back or complete it). */
export async function settleInterruptedRestore(
  common: CommonOptions,
  run: RestoreRun,
  ctx: Pick<ScriptContext, 'say' | 'sink'>,
): Promise<ScriptOutcome> {
  const { resumeRestore } = await import('../../lib/pipeline/resume-restore.ts');
  ctx.say(`↺ settling any interrupted restore of ${common.root} (policy: ${run.policySource})`);
  const report = await resumeRestore({
    root: common.root,
    backupDir: common.backupDir,
    policy: run.policy,
    services: run.services,
    sink: ctx.sink,
    ...run.lock,
  });
  const summary = report.settled
    ? `✅ ${report.settled.outcome === 'rolled-back' ? 'rolled back' : 'completed'} the interrupted restore (${report.settled.files} file(s))`
    : '✅ nothing to resume';
  return { exitCode: EXIT.ok, summary, policy: run.policySource, result: { resume: report } };
}
