import type { InjectedFault } from '../faults/index.ts';
import type { ArkaliaStack } from '../stack/index.ts';
import type { TreeSnapshot } from './tree-snapshot.ts';

export interface ProbeContext {
  root: string;
  backupDir: string;
  stack: ArkaliaStack;
  /** Faults injected in this run (corrupt-copy-preserved compares with their bytes). */
  faults: readonly InjectedFault[];
  /** The recovery script's --json result, once it ran (matches-backup uses the backup it chose). */
  recoveryResult?: Record<string, unknown> | null;
  /** The recovery script's --json error ({code, message, …}) when it stopped on one. */
  recoveryError?: Record<string, unknown> | null;
  /** The drill's workspace ({work}: keys, a local offsite folder). */
  work?: string;
  /** What the runner hashed before the fault and before the recovery (matches-snapshot). */
  snapshots?: { fault?: TreeSnapshot; recovery?: TreeSnapshot };
  /** Expands placeholders ({date-40d}, {offsite_url}, ...) in probe fields. */
  expand?: (text: string) => string;
  /** When the recovery script was started (probes that ask whether a service was restarted by it). */
  recoveryStartedAt?: Date;
  /** Environment the faults set up for scripts (an S3 endpoint), for probes that talk to the same place. */
  env?: Readonly<Record<string, string>>;
}

export interface ProbeResult {
  probe: string;
  ok: boolean;
  detail: string;
}
