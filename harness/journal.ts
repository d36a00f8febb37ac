// The journal: one JSON record per scenario run, the single source for the Allure report
// and the audit evidence. A failed activity is recorded here, not thrown (Chaos Toolkit).
// Its shape is pinned (journal.test.ts): a change to what auditors read must be deliberate.
import { z } from 'zod';

export const JOURNAL_FORMAT = 'arkalia-dr-journal/1';

const probeResult = z.strictObject({ probe: z.string(), ok: z.boolean(), detail: z.string() });

export const PHASE_NAMES = [
  'root',
  'stack',
  'setup',
  'steady-state-before',
  'fault',
  'detect',
  'recovery',
  'verify',
  'fault-cleared',
  'retry',
  'retry-verify',
  'steady-state-after',
  'rollback',
] as const;

const phaseRecord = z.strictObject({
  name: z.enum(PHASE_NAMES),
  started_at: z.iso.datetime(),
  ended_at: z.iso.datetime(),
  duration_ms: z.number().int().nonnegative(),
  ok: z.boolean(),
  output: z.string().optional(),
  probes: z.array(probeResult).optional(),
  error: z.string().optional(),
});

const dataLoss = z.strictObject({
  service: z.string(),
  sequenceAtFault: z.number().int(),
  sequenceRestored: z.number().int(),
  lostWrites: z.number().int().nonnegative(),
  writtenAtFault: z.string(),
  writtenAtRestored: z.string().nullable(),
});

export const journalSchema = z.strictObject({
  format: z.literal(JOURNAL_FORMAT),
  scenario: z.string(),
  title: z.string(),
  file: z.string(),
  run_id: z.string(),
  tags: z.array(z.string()),
  /** The Arkalia tree the drill ran on a fresh copy of: the sample (a path in the checkout) or the operator's own (absolute). */
  root_from: z.string(),
  /** completed: all held; deviated: the system did not come back as verified / objectives missed; failed: an activity failed; aborted: the harness or infrastructure failed. */
  status: z.enum(['completed', 'failed', 'deviated', 'aborted']),
  started_at: z.iso.datetime(),
  ended_at: z.iso.datetime(),
  duration_ms: z.number().int().nonnegative(),
  phases: z.array(phaseRecord),
  objectives: z.strictObject({ rto: z.string(), rpo: z.string() }),
  measurements: z.strictObject({
    /** RTO runs from fault injection to every verify and steady-state probe passing again. */
    rto_from: z.literal('fault-injection'),
    rto_ms: z.number().int().nullable(),
    /** Age of the restored data at the moment of the fault. */
    rpo_ms: z.number().int().nullable(),
    rpo_basis: z.enum(['heartbeat', 'backup-time']).nullable(),
    rto_met: z.boolean().nullable(),
    rpo_met: z.boolean().nullable(),
    data_loss: z.array(dataLoss),
    /** The recovery point the recovery script reported (the restored backup's time). */
    recovery_point: z.string().nullable(),
  }),
  recovery: z
    .strictObject({
      script: z.string(),
      argv: z.array(z.string()),
      exit_code: z.number().int().nullable(),
      duration_ms: z.number().int(),
      result: z.record(z.string(), z.unknown()).nullable(),
    })
    .nullable(),
  backups: z.array(z.strictObject({ dir: z.string(), checksums: z.string() })),
  error: z.string().nullable(),
});

export type Journal = z.infer<typeof journalSchema>;
export type JournalStatus = Journal['status'];
export type PhaseName = (typeof PHASE_NAMES)[number];
export type PhaseRecord = z.infer<typeof phaseRecord>;
