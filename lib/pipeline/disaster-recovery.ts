import { lstat, mkdir, mkdtemp, readdir, readlink, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { ExtractLimits } from '../archive/index.ts';
import { nameDiskFailure, UsageError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import type { Policy } from '../policy/index.ts';
import { diffTrees, listCandidates, systemScope, type BackupCandidate, type TreeDiff } from '../restore/index.ts';
import type { ComposeProject } from '../compose/index.ts';
import { bootSandbox, noneController, type BootReport, type ServiceController } from '../services/index.ts';
import { runRestore, type RestoreReport } from './restore.ts';
import { policyServices } from './restore-services.ts';
import { assertRootFolder } from '../tree/index.ts';

export interface DisasterRecoveryOptions {
  root: string;
  backupDir: string;
  /** YYYYMMDD: that backup and no other. Absent: the newest that passes verification. */
  date?: string;
  policy: Policy;
  services: ServiceController;
  sink: EventSink;
  dryRun?: boolean;
  snapshots?: boolean;
  /**
   * The runbook's weekly test restore: restore into this folder (created; it must be empty)
   * instead of the live root, leave every service alone, and diff the result against the
   * live tree. `keep: false` removes the sandbox afterwards (it holds .env).
   */
  sandbox?: { dir: string; keep: boolean } | 'temporary';
  /**
   * With a sandbox: boot what was restored as a separate Compose project (same images, own
   * network, no published ports), wait for health, record it, tear it down.
   */
  boot?: { compose: ComposeProject; timeoutMs: number };
  /** Where the backups come from when not <backup-dir>/daily (disk-recovery: a downloaded, decrypted archive). */
  candidates?: readonly BackupCandidate[];
  limits?: Partial<ExtractLimits>;
  lockTimeoutMs?: number;
  signal?: AbortSignal;
  pauseAt?: (point: string) => Promise<void>;
  now?: () => Date;
}

export interface DisasterRecoveryReport extends RestoreReport {
  mode: 'live' | 'test';
  /** Test mode: where the backup was restored, whether it was kept, and how it differs from the live tree. */
  sandbox: { dir: string; kept: boolean } | null;
  diff: TreeDiff | null;
  /** --boot: the sandbox project, each service's health, and how long each step took. */
  boot: BootReport | null;
  /** Test mode: how long the restore into the sandbox, and the boot, took. */
  timings: { restore_ms: number; boot_up_ms: number | null; boot_down_ms: number | null } | null;
}

/**
 * The runbook's ark_disaster_recovery.sh on the shared restore pipeline: the states, configs
 * and infra of the newest backup that passes verification (or the dated one), newer snapshots
 * laid over the state files; then stop every service (reverse start order) → swap in under a
 * journal → preserve the previous files → pre-start checks → start in the policy's order,
 * each group healthy before the next → the API check. Unlike the runbook, services are
 * stopped only once a backup is known good: if none is, nothing stops and nothing changes.
 */
export async function disasterRecovery(options: DisasterRecoveryOptions): Promise<DisasterRecoveryReport> {
  const { root, policy } = options;
  await assertRootFolder(root);
  const candidates =
    options.candidates ??
    (await listCandidates(options.backupDir, policy, options.date).catch((error: unknown) => {
      throw nameDiskFailure(error, 'Nothing was changed.', `listing the backups in ${options.backupDir}`);
    }));
  const sandbox = options.sandbox === undefined ? null : await prepareSandbox(root, options.sandbox);
  const scope = systemScope(policy);
  if (options.boot && !options.sandbox) throw new UsageError('--boot boots a test restore: it needs --test-mode');
  const started = Date.now();
  try {
    const report = await runRestore({
      root: sandbox?.dir ?? root,
      backupDir: options.backupDir,
      scope,
      policy,
      candidates,
      explicit: options.date !== undefined,
      services: sandbox
        ? {
            controller: noneController,
            groups: [],
            skipMessage: { service: '', message: `test restore into ${sandbox.dir}: services untouched` },
          }
        : policyServices(policy, options.services),
      sink: options.sink,
      acceptDeclaredInvalid: true,
      preStartChecks: true,
      ...pick(options, ['dryRun', 'snapshots', 'limits', 'lockTimeoutMs', 'signal', 'pauseAt', 'now']),
    });
    let diff: TreeDiff | null = null;
    if (sandbox && !report.dryRun) {
      diff = await diffTrees(scope, root, sandbox.dir);
      options.sink({
        kind: 'restore-diff',
        sandbox: sandbox.dir,
        added: diff.added.length,
        removed: diff.removed.length,
        changed: diff.changed.length,
        unchanged: diff.unchanged,
      });
    }
    const restoreMs = Date.now() - started;
    let boot: BootReport | null = null;
    if (sandbox && options.boot && !report.dryRun) {
      const work = await mkdtemp(join(tmpdir(), 'ark-boot-'));
      try {
        boot = await bootSandbox({
          compose: options.boot.compose,
          liveRoot: root,
          sandbox: sandbox.dir,
          workDir: work,
          timeoutMs: options.boot.timeoutMs,
          sink: options.sink,
        });
      } finally {
        await rm(work, { recursive: true, force: true });
      }
    }
    return {
      ...report,
      mode: sandbox ? 'test' : 'live',
      sandbox: sandbox ? { dir: sandbox.dir, kept: sandbox.keep } : null,
      diff,
      boot,
      timings: sandbox
        ? { restore_ms: restoreMs, boot_up_ms: boot?.ms.up ?? null, boot_down_ms: boot?.ms.down ?? null }
        : null,
    };
  } finally {
    if (sandbox && !sandbox.keep) await rm(sandbox.dir, { recursive: true, force: true });
  }
}

/** The sandbox: created empty, never the root, inside it, nor around it. */
async function prepareSandbox(
  root: string,
  wanted: NonNullable<DisasterRecoveryOptions['sandbox']>,
): Promise<{ dir: string; keep: boolean }> {
  const keep = wanted !== 'temporary' && wanted.keep;
  // A temporary sandbox is made by mkdtemp: a predictable name in /tmp could be a planted link.
  if (wanted === 'temporary') return { dir: await mkdtemp(join(tmpdir(), 'ark-test-restore-')), keep };
  const dir = resolve(wanted.dir);
  const realRoot = await realpath(root);
  const existing = await lstat(dir).catch(() => null);
  if (existing?.isSymbolicLink())
    throw new UsageError(
      `--sandbox ${dir} is a link (to ${await readlink(dir)}): give the folder itself, a test restore never writes through a link`,
    );
  if (existing && !existing.isDirectory()) throw new UsageError(`--sandbox ${dir} is not a folder`);
  const realDir = existing ? await realpath(dir) : dir;
  const inside = (a: string, b: string) => a === b || !relative(b, a).startsWith('..');
  if (inside(realDir, realRoot) || inside(realRoot, realDir))
    throw new UsageError(`--sandbox ${dir} must be outside the Arkalia root ${root} (and not contain it)`);
  if (existing && (await readdir(dir)).length > 0)
    throw new UsageError(
      `--sandbox ${dir} is not empty: give a new or empty folder, so the test restore never mixes with other files`,
    );
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return { dir, keep };
}

function pick<T extends object, K extends keyof T>(object: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (object[key] !== undefined) out[key] = object[key];
  return out;
}
