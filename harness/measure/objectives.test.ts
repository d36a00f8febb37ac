import { describe, expect, it } from 'vitest';
import { measureObjectives, type Beat } from './index.ts';

const beat = (
  service: string,
  sequence: number | null,
  writtenAt: string | null,
  loaded: Beat['loaded'],
  sha: string | null,
): Beat => ({ service, sequence, writtenAt, loaded, loadedSha256: sha });
const faultAt = new Date('2026-11-26T04:00:10.000Z');

describe('measureObjectives', () => {
  it('measures RTO from the fault and RPO from the restored heartbeat of the restarted service', () => {
    const before = [
      beat('zeroia', 40, '2026-11-26T04:00:09.900Z', { sequence: null, written_at: null }, 'fixture'),
      beat('reflexia', 38, '2026-11-26T04:00:09.950Z', { sequence: null, written_at: null }, 'r'),
    ];
    const after = [
      beat('zeroia', 3, '2026-11-26T04:00:20.000Z', { sequence: 12, written_at: '2026-11-26T04:00:01.500Z' }, 'backup'),
      beat('reflexia', 80, '2026-11-26T04:00:20.000Z', { sequence: null, written_at: null }, 'r'),
    ];
    const m = measureObjectives({
      faultAt,
      recoveredAt: new Date('2026-11-26T04:00:25.000Z'),
      before,
      after,
      recoveryPoint: '2026-11-26T04:00:01+00:00',
      objectives: { rto: 'PT30S', rpo: 'PT5S' },
    });
    expect(m.rto_ms).toBe(15_000);
    expect(m.rpo_ms).toBe(8_400);
    expect(m.rpo_basis).toBe('heartbeat');
    expect(m.data_loss).toEqual([
      {
        service: 'zeroia',
        sequenceAtFault: 40,
        sequenceRestored: 12,
        lostWrites: 28,
        writtenAtFault: '2026-11-26T04:00:09.900Z',
        writtenAtRestored: '2026-11-26T04:00:01.500Z',
      },
    ]);
    expect(m.rto_met).toBe(true);
    expect(m.rpo_met).toBe(false); // 8.4 s of data lost against a 5 s objective
  });

  it('falls back to the backup time when no service was restarted', () => {
    const same = [beat('zeroia', 5, '2026-11-26T04:00:09Z', { sequence: null, written_at: null }, 'a')];
    const m = measureObjectives({
      faultAt,
      recoveredAt: null,
      before: same,
      after: same,
      recoveryPoint: '2026-11-26T03:00:10Z',
      objectives: { rto: 'PT1M', rpo: 'PT2H' },
    });
    expect(m).toMatchObject({
      rto_ms: null,
      rto_met: null,
      rpo_ms: 3_600_000,
      rpo_basis: 'backup-time',
      rpo_met: true,
      data_loss: [],
    });
  });

  it('reports nothing it cannot measure', () => {
    const m = measureObjectives({
      faultAt: null,
      recoveredAt: null,
      before: [],
      after: [],
      recoveryPoint: null,
      objectives: { rto: 'PT1M', rpo: 'PT1H' },
    });
    expect(m).toMatchObject({ rto_ms: null, rpo_ms: null, rpo_basis: null, rto_met: null, rpo_met: null });
  });
});
