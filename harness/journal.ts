// The journal: one JSON record per scenario run, the single source for the Allure report
// and the audit evidence. A failed activity is recorded here, not thrown (Chaos Toolkit).
import type { ProbeResult } from './probes/index.ts';

export const JOURNAL_FORMAT = 'arkalia-dr-journal/1';

export type JournalStatus = 'completed' | 'failed' | 'deviated' | 'aborted';
export type PhaseName = 'stack' | 'setup' | 'steady-state-before' | 'fault' | 'detect' | 'recovery' | 'verify' | 'steady-state-after' | 'rollback';

export interface PhaseRecord {
  name: PhaseName;
  started_at: string;
  ended_at: string;
  duration_ms: number;
  ok: boolean;
  output?: string;
  probes?: ProbeResult[];
  error?: string;
}

export interface Journal {
  format: typeof JOURNAL_FORMAT;
  scenario: string;
  title: string;
  file: string;
  run_id: string;
  tags: string[];
  status: JournalStatus;
  started_at: string;
  ended_at: string;
  duration_ms: number;
  phases: PhaseRecord[];
  objectives: { rto: string; rpo: string };
  measurements: {
    /** From fault injection to every verify and steady-state probe passing again. */
    rto_ms: number | null;
    /** Age of the restored data at the moment of the fault (fault time - recovery point). */
    rpo_ms: number | null;
    recovery_point: string | null;
    rto_met: boolean | null;
    rpo_met: boolean | null;
  };
  recovery: { script: string; argv: string[]; exit_code: number | null; duration_ms: number; result: Record<string, unknown> | null } | null;
  backups: { dir: string; checksums: string }[];
  error: string | null;
}
