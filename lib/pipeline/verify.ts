import { toArkError } from '../errors.ts';
import { noneController } from '../services/index.ts';
import {
  checkCapacity,
  checkChecksums,
  checkEvidence,
  checkFrequencies,
  checkMedia,
  checkKeyRotation,
  checkOffsite,
  checkOffsiteDecrypt,
  checkPrunePlan,
  checkSchedule,
  checkSizes,
  checkTestRestore,
  quiet,
  type CheckResult,
  type ChecklistOptions,
  type Outcome,
  type VerifyMode,
} from '../verify/index.ts';
import { disasterRecovery } from './disaster-recovery.ts';
import { runPrune } from './prune.ts';

export type { ChecklistOptions, CheckResult, VerifyMode } from '../verify/index.ts';
export { checklistExitCode } from '../verify/index.ts';

/**
 * The runbook's maintenance checklist, in its order. Each check's outcome is a `verify-check`
 * event and a result; one that throws is a failed check (integrity when its error is one), so
 * every check of the chosen modes runs whatever the others found.
 */
export async function runChecklist(modes: readonly VerifyMode[], options: ChecklistOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const run = async (mode: VerifyMode, check: string, work: () => Promise<Outcome>) => {
    let result: CheckResult;
    try {
      result = { mode, check, ...(await work()) };
    } catch (error) {
      const ark = toArkError(error);
      result = {
        mode,
        check,
        status: ark.exitCode === 3 ? 'integrity' : 'failed',
        detail: ark.message,
        data: { code: ark.code },
      };
    }
    results.push(result);
    options.sink({ kind: 'verify-check', mode, check, status: result.status, detail: result.detail });
  };
  if (modes.includes('daily')) {
    // 1. Daily: on schedule, sizes in line, every checksum, the offsite answers.
    await run('daily', 'schedule', () => checkSchedule(options));
    await run('daily', 'frequencies', () => checkFrequencies(options));
    await run('daily', 'media', () => checkMedia(options));
    await run('daily', 'sizes', () => checkSizes(options));
    await run('daily', 'checksums', () => checkChecksums(options));
    await run('daily', 'offsite', () => checkOffsite(options));
  }
  if (modes.includes('weekly')) {
    // 2. Weekly: a test restore into a temporary sandbox, prune's plan, room for two more backups.
    const sink = quiet(options.sink);
    await run('weekly', 'test-restore', () =>
      checkTestRestore(() =>
        disasterRecovery({
          root: options.root,
          backupDir: options.backupDir,
          policy: options.policy,
          services: noneController,
          sink,
          sandbox: 'temporary',
          ...(options.boot ? { boot: options.boot } : {}),
        }),
      ),
    );
    await run('weekly', 'prune-dry-run', () =>
      checkPrunePlan(() =>
        runPrune({
          backupDir: options.backupDir,
          retention: options.policy.retention,
          sink,
          dryRun: true,
          ...(options.now ? { now: options.now } : {}),
        }),
      ),
    );
    await run('weekly', 'capacity', () => checkCapacity(options));
    await run('weekly', 'log-audit', async () => ({
      status: 'skipped',
      detail:
        'no backup log exists in arkalia-dr to audit: the scripts report on stderr (cron mail / journal), in --json and in the metrics file; audit arkalia_backup_failures_total instead',
    }));
  }
  if (modes.includes('monthly')) {
    // 3. Monthly: key rotation due, one offsite copy decrypted, recent signed drill evidence.
    await run('monthly', 'key-rotation', () => checkKeyRotation(options));
    await run('monthly', 'offsite-decrypt', () => checkOffsiteDecrypt(options));
    await run('monthly', 'evidence', () => checkEvidence(options));
  }
  return results;
}
