import type { Fault } from '../scenario/index.ts';
import { injectCorruptConfig } from './corrupt-config.ts';
import { injectDeleteBackup } from './delete-backup.ts';
import { injectDeleteFile } from './delete-file.ts';
import { injectDiskFull } from './disk-full.ts';
import type { FaultContext, InjectedFault } from './fault.ts';
import { injectFlakyOffsite } from './flaky-offsite.ts';
import { injectGitConflict } from './git-conflict.ts';
import { injectKillScript } from './kill-script.ts';
import { injectKillService } from './kill-service.ts';
import { injectLoseDisk } from './lose-disk.ts';
import { injectOffsiteUnreachable } from './offsite-unreachable.ts';
import { injectServiceWontStart } from './service-wont-start.ts';
import { injectStaleLock } from './stale-lock.ts';
import { injectWrongKey } from './wrong-key.ts';

/** The chaos suite's fault kinds (one file each); index.ts dispatches the others. */
export type ChaosFault = Extract<Fault, { kind: 'delete-file' | 'lose-disk' | 'disk-full' | 'kill-service' | 'kill-script' | 'delete-backup' | 'wrong-key' | 'offsite-unreachable' | 'flaky-offsite' | 'corrupt-config' | 'service-wont-start' | 'git-conflict' | 'stale-lock' }>;

export function injectChaosFault(fault: ChaosFault, ctx: FaultContext): Promise<InjectedFault> {
  switch (fault.kind) {
    case 'delete-file':
      return injectDeleteFile(fault, ctx);
    case 'lose-disk':
      return injectLoseDisk(fault, ctx);
    case 'disk-full':
      return injectDiskFull(fault, ctx);
    case 'kill-service':
      return injectKillService(fault, ctx);
    case 'kill-script':
      return injectKillScript(fault, ctx);
    case 'delete-backup':
      return injectDeleteBackup(fault, ctx);
    case 'wrong-key':
      return injectWrongKey(fault, ctx);
    case 'offsite-unreachable':
      return injectOffsiteUnreachable(fault, ctx);
    case 'flaky-offsite':
      return injectFlakyOffsite(fault, ctx);
    case 'corrupt-config':
      return injectCorruptConfig(fault, ctx);
    case 'service-wont-start':
      return injectServiceWontStart(fault, ctx);
    case 'git-conflict':
      return injectGitConflict(fault, ctx);
    case 'stale-lock':
      return injectStaleLock(fault, ctx);
  }
}
