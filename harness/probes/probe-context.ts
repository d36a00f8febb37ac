import type { InjectedFault } from '../faults/index.ts';
import type { ArkaliaStack } from '../stack/index.ts';

export interface ProbeContext {
  root: string;
  backupDir: string;
  stack: ArkaliaStack;
  /** Faults injected in this run (corrupt-copy-preserved compares with their bytes). */
  faults: readonly InjectedFault[];
  /** The recovery script's --json result, once it ran (matches-backup uses the backup it chose). */
  recoveryResult?: Record<string, unknown> | null;
}

export interface ProbeResult {
  probe: string;
  ok: boolean;
  detail: string;
}
