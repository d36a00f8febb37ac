import type { CheckResult } from '../restore/index.ts';
import type { DecryptRecord, FetchRecord, OffsiteIndex, Placement, SetProblem } from '../restore-source/index.ts';
import type { DiskRecoveryOptions } from './disk-recovery.ts';
import type { ServicesReport } from './restore-services.ts';

// What disk-recovery reports (--json), and the report it starts from.

export interface DiskRecoveryReport {
  offsite: string;
  root: string;
  backupDir: string;
  dryRun: boolean;
  placement: { mode: Placement['mode']; reason: string | null };
  /** --clone: the repository laid into the root, and the commit. */
  repository: { url: string; ref: string | null; commit: string } | null;
  /** --build: the services whose images were built, and how long it took. */
  built: { services: string[]; ms: number } | null;
  /**
   * The set used (dry run: the one that would be tried first). recoveryPoint: when that backup
   * ran, as encrypted-backup recorded it offsite; YYYY-MM-DD for sets encrypted before it did.
   */
  backup: {
    date: string;
    dir: string;
    recoveryPoint: string | null;
    encryptedAt: string | null;
    reused: boolean;
  } | null;
  /** Newer sets that could not be used, and why (newest first). */
  rejected: { date: string; code: string; name: string | null; reason: string }[];
  offsiteManifest: OffsiteIndex['manifestFile'];
  fetched: FetchRecord[];
  decrypted: DecryptRecord[];
  keys: { fingerprint: string; keyIds: string[]; userIds: string[]; source: string }[];
  restored: { path: string; sha256: string }[];
  /** Restored as they were: already invalid TOML when the backup ran. */
  knownInvalid: { path: string; reason: string }[];
  /** Data sets whose archive the offsite set does not hold (not restored). */
  notRestored: { dataset: string; archive: string; paths: string[] }[];
  dropped: SetProblem[];
  checks: CheckResult[];
  services: ServicesReport | null;
  /** --dry-run: what would be fetched and rebuilt. */
  plan: {
    date: string;
    fetch: { name: string; bytes: number; sha256: string }[];
    decrypt: { file: string; bytes: number; sha256: string }[];
    rebuild: string;
    datasets: string[];
  } | null;
}

/** The report before any set is tried. */
export function emptyReport(o: DiskRecoveryOptions, index: OffsiteIndex, placement: Placement): DiskRecoveryReport {
  return {
    offsite: index.target,
    root: o.root,
    backupDir: o.backupDir,
    dryRun: o.dryRun ?? false,
    placement: { mode: placement.mode, reason: placement.mode === 'in-place' ? placement.reason : null },
    repository: null,
    built: null,
    backup: null,
    rejected: [],
    offsiteManifest: index.manifestFile,
    fetched: [],
    decrypted: [],
    keys: [],
    restored: [],
    knownInvalid: [],
    notRestored: [],
    dropped: [],
    checks: [],
    services: null,
    plan: null,
  };
}
