import type { ArkaliaStack } from '../stack/index.ts';

export interface FaultContext {
  root: string;
  backupDir: string;
  stack: ArkaliaStack | null;
}

/** A fault that has been injected: what it did, and how to undo it (idempotent). */
export interface InjectedFault {
  kind: string;
  description: string;
  /** The file it damaged, relative to the root, and the exact bytes it left there. */
  path?: string;
  damaged?: Buffer;
  revert(): Promise<void>;
}
