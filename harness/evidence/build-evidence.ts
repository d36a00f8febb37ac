import { createHash } from 'node:crypto';
import type { Journal } from '../journal.ts';

// Audit evidence that restores were tested: who ran the drills, when, on what commit and
// host, each scenario's result, RTO, RPO and objectives, and the checksums of the backups
// used. Built from the journals (their single source) by a pure function; signed elsewhere.

export const EVIDENCE_FORMAT = 'arkalia-dr-evidence/1';

export interface EvidenceContext {
  runId: string;
  generatedAt: Date;
  operator: string;
  ci: string | null;
  gitCommit: string;
  gitDirty: boolean;
  host: string;
  tool: { name: string; version: string; node: string };
  /** The ids of every scenario the run selected (default: those of the journals); one without a journal did not run to the end. */
  selected?: readonly string[];
}

/** The controls and checklist items a passing drill set is evidence for. */
export const CONTROLS = [
  {
    id: 'ISO/IEC 27001:2022 A.8.13',
    title: 'Information backup',
    claim: 'Backups are taken and their restoration is tested regularly.',
  },
  {
    id: 'SOC 2 A1.3',
    title: 'Recovery plan testing',
    claim: 'Recovery plan procedures supporting system recovery are tested.',
  },
  {
    id: 'Runbook: weekly',
    title: 'Test restauration état sur environnement test',
    claim: 'A state restore was executed and verified on a test environment.',
  },
  {
    id: 'Runbook: monthly',
    title: 'Exercice disaster recovery complet',
    claim: 'Recovery scenarios were run end to end against the service stack.',
  },
] as const;

/** Evidence of a run in which at least one drill ran to the end (nothing to sign otherwise: throws). */
export function buildEvidence(journals: readonly Journal[], ctx: EvidenceContext) {
  if (journals.length === 0) throw new Error('no drill ran to the end: there is nothing to give evidence of');
  const selected = ctx.selected ?? journals.map((j) => j.scenario);
  const notRun = selected.filter((id) => !journals.some((j) => j.scenario === id));
  const scenarios = journals.map((j) => ({
    id: j.scenario,
    title: j.title,
    tags: j.tags,
    root_from: j.root_from,
    status: j.status,
    started_at: j.started_at,
    ended_at: j.ended_at,
    objectives: j.objectives,
    rto_ms: j.measurements.rto_ms,
    rpo_ms: j.measurements.rpo_ms,
    rto_met: j.measurements.rto_met,
    rpo_met: j.measurements.rpo_met,
    recovery: j.recovery ? { script: j.recovery.script, exit_code: j.recovery.exit_code } : null,
    backups: j.backups.map((b) => ({ dir: b.dir.split('/').at(-1) ?? b.dir, checksums: parseSums(b.checksums) })),
    error: j.error,
    journal_sha256: createHash('sha256').update(JSON.stringify(j)).digest('hex'),
  }));
  const count = (status: Journal['status']) => scenarios.filter((s) => s.status === status).length;
  const passed = notRun.length === 0 && count('completed') === scenarios.length;
  return {
    format: EVIDENCE_FORMAT,
    run_id: ctx.runId,
    generated_at: ctx.generatedAt.toISOString(),
    operator: ctx.operator,
    ci: ctx.ci,
    git: { commit: ctx.gitCommit, dirty: ctx.gitDirty },
    host: ctx.host,
    tool: ctx.tool,
    summary: {
      selected: selected.length,
      scenarios: scenarios.length,
      completed: count('completed'),
      failed: count('failed'),
      deviated: count('deviated'),
      aborted: count('aborted'),
      not_run: notRun,
      passed,
    },
    scenarios,
    // A control is evidenced only by a passing run; a failing one is evidence of the opposite.
    controls: CONTROLS.map((c) => ({ ...c, evidenced: passed })),
  };
}

export type Evidence = ReturnType<typeof buildEvidence>;

function parseSums(text: string): { file: string; sha256: string }[] {
  return text
    .split('\n')
    .map((line) => /^([0-9a-f]{64}) [ *](.+)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ file: m[2]!, sha256: m[1]! }));
}
