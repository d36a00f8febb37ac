import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { journalSchema } from './journal.ts';

describe('journal shape', () => {
  it('is pinned: changing what auditors read must be a deliberate snapshot update', () => {
    expect(z.toJSONSchema(journalSchema)).toMatchSnapshot();
  });

  it('rejects a record with an unknown field or a missing measurement', () => {
    const minimal = {
      format: 'arkalia-dr-journal/1',
      scenario: 's',
      title: 't',
      file: '/f',
      run_id: 'r',
      tags: [],
      root_from: 'sample/arkalia-luna-pro',
      status: 'completed',
      started_at: '2026-11-26T04:00:00.000Z',
      ended_at: '2026-11-26T04:00:01.000Z',
      duration_ms: 1000,
      phases: [],
      objectives: { rto: 'PT1M', rpo: 'PT1H' },
      measurements: {
        rto_from: 'fault-injection',
        rto_ms: 1,
        rpo_ms: 2,
        rpo_basis: 'heartbeat',
        rto_met: true,
        rpo_met: true,
        data_loss: [],
        recovery_point: null,
      },
      recovery: null,
      backups: [],
      error: null,
    };
    expect(journalSchema.safeParse(minimal).success).toBe(true);
    expect(journalSchema.safeParse({ ...minimal, extra: 1 }).success).toBe(false);
    const { rto_ms: _, ...withoutRto } = minimal.measurements;
    expect(journalSchema.safeParse({ ...minimal, measurements: withoutRto }).success).toBe(false);
    expect(journalSchema.safeParse({ ...minimal, status: 'passed' }).success).toBe(false);
  });
});
