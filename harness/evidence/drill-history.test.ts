import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../lib/testing.ts';
import type { Journal } from '../journal.ts';
import { historyTable, recordDrillHistory } from './drill-history.ts';

const journal = (scenario: string, rto: number): Journal =>
  ({
    scenario,
    status: 'completed',
    ended_at: `2026-11-2${rto}T00:00:00.000Z`,
    measurements: { rto_ms: rto, rpo_ms: 5 },
  }) as unknown as Journal;

describe('drill history', () => {
  it('accumulates runs per scenario across calls and renders the last ones', async () => {
    const file = join(await tempDir(), 'h', 'drills.jsonl');
    await recordDrillHistory(file, journal('a', 1));
    await recordDrillHistory(file, journal('b', 2));
    const lines = await recordDrillHistory(file, journal('a', 3));
    expect(lines.map((l) => l.rto_ms)).toEqual([1, 3]);
    expect(historyTable(lines, 1)).toBe(
      '| run | status | RTO ms | RPO ms |\n|---|---|---|---|\n| 2026-11-23T00:00:00.000Z | completed | 3 | 5 |',
    );
  });
});
