import { stat } from 'node:fs/promises';
import type { EventSink } from '../events.ts';
import { withBackupLock } from '../lock/index.ts';
import type { Policy } from '../policy/index.ts';
import { settleInterrupted, sweepStaleWorkspaces, type Settled } from '../restore/index.ts';
import { writerTarget } from './restore-services.ts';
import { serviceGroups, startServices, type ServiceController, type ServiceOutcome } from '../services/index.ts';
import { assertRootFolder } from '../tree/index.ts';

export interface ResumeReport {
  settled: Settled | null;
  /** Stale staging folders of killed runs that were removed. */
  removed: string[];
  /** The services the interrupted restore had stopped, started again in order. */
  restarted: ServiceOutcome[];
}

/**
 * `--resume`: settle what an interrupted restore of `root` left — roll its unfinished swap
 * back (the live files exactly as before it) or finish one that had committed — then start
 * again, in the policy's order and health-gated, the services it had stopped. Idempotent:
 * nothing to settle is a success that says so.
 */
export async function resumeRestore(options: {
  root: string;
  backupDir: string;
  policy: Policy;
  services: ServiceController;
  sink: EventSink;
  lockTimeoutMs?: number;
}): Promise<ResumeReport> {
  const { root, sink } = options;
  await assertRootFolder(root);
  const settle = async (): Promise<ResumeReport> => {
    const settled = await settleInterrupted(root, sink);
    const removed = await sweepStaleWorkspaces(root);
    for (const dir of removed)
      sink({
        kind: 'warning',
        code: 'STALE_STAGING_REMOVED',
        message: `removed the staging folder of a restore killed before its swap: ${dir}`,
      });
    if (!settled) sink({ kind: 'info', message: `no interrupted restore of ${root} to settle` });
    const stopped = new Set(settled?.stoppedServices ?? []);
    const groups = serviceGroups(options.policy).map((g) => g.filter((t) => stopped.has(t.container)));
    // Containers it stopped that the policy does not name (writers found by their mounts) start last, by name.
    const named = new Set(groups.flat().map((t) => t.container));
    const writers = [...stopped].filter((c) => !named.has(c)).map(writerTarget);
    if (writers.length > 0) groups.push(writers);
    const restarted =
      options.services.kind === 'none' || stopped.size === 0 ? [] : await startServices(options.services, groups, sink);
    return { settled, removed, restarted };
  };
  if (
    !(await stat(options.backupDir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  )
    return settle();
  const timeout = options.lockTimeoutMs === undefined ? {} : { timeoutMs: options.lockTimeoutMs };
  return withBackupLock({ backupDir: options.backupDir, sink, ...timeout }, settle);
}
