// Typed events that pipelines emit to a sink passed in. Scripts render them for people
// (stderr) or collect them for --json; the harness turns them into Allure steps.

export type ArkEvent =
  | { kind: 'step'; step: string; message: string }
  | { kind: 'info'; message: string }
  | { kind: 'warning'; code: string; message: string; path?: string }
  /** `known`: the previous real-time pass reported this file invalid for the same reason. */
  | { kind: 'invalid-state'; path: string; reason: string; known?: boolean }
  | { kind: 'dataset-skipped'; archive: string; path: string; reason: string }
  | {
      kind: 'archive-written';
      archive: string;
      file: string;
      bytes: number;
      members: number;
      sha256: string;
      /** Runs of unchanged members copied from the previous point's archive, not read again (archive/segments.ts). */
      copied?: { runs: number; of: number; members: number; from: string };
    }
  | {
      kind: 'archive-reused';
      archive: string;
      file: string;
      /** The previous point's file it is a link to (or a copy of). */
      from: string;
      how: 'link' | 'copy';
      /** Changed but not due: the point keeps the older capture. */
      carried: boolean;
      capturedAt: string;
    }
  | { kind: 'backup-published'; dir: string; date: string }
  | { kind: 'backup-selected'; dir: string; date: string; source: string }
  | { kind: 'checksum-verified'; file: string; sha256: string }
  | { kind: 'entry-refused'; entry: string; reason: string }
  | { kind: 'state-preserved'; from: string; to: string }
  | { kind: 'file-restored'; path: string; sha256: string; previousSha256: string | null }
  | {
      kind: 'service';
      service: string;
      container: string;
      action: 'stop' | 'start' | 'healthy' | 'skip' | 'absent';
      message: string;
    }
  | { kind: 'service-logs'; service: string; lines: string }
  /** `detail`: one line per file, shown with -v only (a summary event says how many). */
  | { kind: 'dry-run'; message: string; detail?: boolean }
  | {
      kind: 'encrypted-file';
      archive: string;
      file: string;
      bytes: number;
      sha256: string;
      recipients: string[];
      signedBy: string | null;
    }
  | { kind: 'encryption-verified'; file: string; level: 'full' | 'session-key' | 'structure'; note: string }
  | { kind: 'encryption-skipped'; archive: string; file: string; reason: string }
  | { kind: 'key-written'; fingerprint: string; file: string; secret: boolean }
  | { kind: 'key-current'; fingerprint: string; previous: string | null }
  | { kind: 'file-reencrypted'; file: string; from: string[]; to: string[] }
  | { kind: 'snapshot-written'; path: string; snapshot: string; bytes: number; sha256: string }
  | { kind: 'snapshot-unchanged'; path: string; snapshot: string }
  | { kind: 'snapshot-failed'; path: string; code: string; message: string }
  | { kind: 'snapshot-pruned'; snapshot: string; takenAt: string }
  | {
      kind: 'offsite-plan';
      target: string;
      name: string;
      action: 'upload' | 'skip' | 'delete' | 'keep' | 'cleanup';
      reason: string;
      bytes: number | null;
    }
  | { kind: 'offsite-uploaded'; target: string; name: string; bytes: number }
  | {
      kind: 'offsite-verified';
      target: string;
      name: string;
      bytes: number;
      sha256: string;
      method: 'server-checksum' | 'read-back';
    }
  | { kind: 'offsite-deleted'; target: string; name: string; reason: string }
  | { kind: 'offsite-manifest'; target: string; name: string; files: number; bytes: number; sha256: string }
  | {
      kind: 'offsite-retry';
      target: string;
      operation: string;
      name: string | null;
      attempt: number;
      retriesLeft: number;
      delayMs: number;
      code: string;
      reason: string;
    }
  | {
      kind: 'lock-waiting';
      path: string;
      holder: { pid: number; host: string; since: string; command: string } | null;
      message: string;
    }
  | { kind: 'lock-acquired'; path: string; waitedMs: number }
  | {
      kind: 'lock-broken';
      path: string;
      holder: { pid: number; host: string; since: string; command: string };
      reason: string;
    }
  | { kind: 'backup-verification'; date: string; dir: string; ok: boolean; problem: string | null }
  | {
      kind: 'retention-decision';
      date: string;
      dir: string;
      action: 'keep' | 'delete';
      status: 'verified' | 'corrupt' | 'unchecked';
      reasons: string[];
    }
  | { kind: 'backup-deleted'; date: string; dir: string }
  | { kind: 'trash-removed'; path: string }
  | { kind: 'backup-rejected'; backup: string; dir: string | null; date: string | null; code: string; reason: string }
  | { kind: 'snapshot-used'; path: string; snapshot: string; takenAt: string; backupRecoveryPoint: string | null }
  | { kind: 'restore-settled'; journal: string; outcome: 'rolled-back' | 'completed'; files: number; message: string }
  | { kind: 'prestart-check'; check: string; ok: boolean; severity: 'error' | 'warning'; detail: string }
  | { kind: 'api-check'; service: string; url: string | null; status: number | null; ok: boolean; message: string }
  | { kind: 'restore-diff'; sandbox: string; added: number; removed: number; changed: number; unchanged: number }
  | { kind: 'metrics-written'; file: string; series: number }
  /**
   * A long operation's advance, at most a few per second (plus one with done = true). `task`
   * identifies one operation (e.g. "archive:logs"); totals are planned estimates (null when
   * unknown); `overall` is the whole run's progress when the pipeline knows it.
   */
  | {
      kind: 'progress';
      task: string;
      label: string;
      bytes: number;
      totalBytes: number | null;
      files: number | null;
      totalFiles: number | null;
      bytesOut: number | null;
      elapsedMs: number;
      done: boolean;
      overall?: { bytes: number; totalBytes: number; elapsedMs: number };
    }
  /** Disk recovery: an offsite file downloaded and matched against the offsite SHA256SUMS. */
  | { kind: 'offsite-fetched'; target: string; name: string; bytes: number; sha256: string; attempts: number }
  /** Disk recovery: an archive decrypted whose sha256 matched encrypted_manifest.json. */
  | {
      kind: 'archive-decrypted';
      file: string;
      bytes: number;
      sha256: string;
      keyId: string | null;
      fingerprint: string | null;
    }
  /** Disk recovery: <backup-dir>/daily/arkalia_<DATE>/ rebuilt from the offsite (or found already rebuilt and verified). */
  | { kind: 'backup-rebuilt'; dir: string; date: string; archives: string[]; reused: boolean }
  /** verify.mts: one check of the runbook's maintenance checklist (lib/verify). */
  | {
      kind: 'verify-check';
      mode: 'daily' | 'weekly' | 'monthly';
      check: string;
      status: 'ok' | 'warning' | 'failed' | 'integrity' | 'skipped';
      detail: string;
    };

export type EventKind = ArkEvent['kind'];
export type EventSink = (event: ArkEvent) => void;

/** A sink that drops everything: the default where a caller does not care. */
export const silentSink: EventSink = () => {};

/** A sink that records events in order, for tests and --json output. */
export function recordingSink(): EventSink & { events: ArkEvent[] } {
  const events: ArkEvent[] = [];
  const sink = ((event: ArkEvent) => {
    events.push(event);
  }) as EventSink & { events: ArkEvent[] };
  sink.events = events;
  return sink;
}
