import { parseDuration } from '../../lib/policy/index.ts';

// RTO and RPO, measured rather than claimed. RTO runs from fault injection to the moment
// every verify and steady-state probe passes again. RPO is the age of the restored data at
// the moment of the fault: the stand-ins stamp each write with a sequence and a time, so a
// service restarted by the recovery reports exactly which write it came back with.

export interface Beat {
  service: string;
  /** The service's current write (null when unreachable or unhealthy). */
  sequence: number | null;
  writtenAt: string | null;
  /** The heartbeat found in its state file when it last started. */
  loaded: { sequence: number | null; written_at: string | null } | null;
  loadedSha256: string | null;
}

export interface DataLoss {
  service: string;
  sequenceAtFault: number;
  sequenceRestored: number;
  lostWrites: number;
  writtenAtFault: string;
  writtenAtRestored: string | null;
}

export interface Objectives {
  rto_ms: number | null;
  rpo_ms: number | null;
  /** heartbeat: from the restored services' own writes; backup-time: from the recovery point the script reported. */
  rpo_basis: 'heartbeat' | 'backup-time' | null;
  rto_met: boolean | null;
  rpo_met: boolean | null;
  data_loss: DataLoss[];
}

export function measureObjectives(input: {
  faultAt: Date | null;
  recoveredAt: Date | null;
  before: readonly Beat[];
  after: readonly Beat[];
  recoveryPoint: string | null;
  objectives: { rto: string; rpo: string };
}): Objectives {
  const rto = input.faultAt && input.recoveredAt ? input.recoveredAt.getTime() - input.faultAt.getTime() : null;
  const dataLoss: DataLoss[] = [];
  for (const after of input.after) {
    const before = input.before.find((b) => b.service === after.service);
    // Only services that came back from another state (restarted on restored data) lost anything.
    if (!before || before.sequence === null || before.writtenAt === null || after.loaded?.sequence == null) continue;
    if (sameLoad(before, after)) continue;
    dataLoss.push({
      service: after.service,
      sequenceAtFault: before.sequence,
      sequenceRestored: after.loaded.sequence,
      lostWrites: Math.max(0, before.sequence - after.loaded.sequence),
      writtenAtFault: before.writtenAt,
      writtenAtRestored: after.loaded.written_at,
    });
  }
  let rpo: number | null = null;
  let basis: Objectives['rpo_basis'] = null;
  const ages = dataLoss
    .filter((d) => d.writtenAtRestored !== null)
    .map((d) => Date.parse(d.writtenAtFault) - Date.parse(d.writtenAtRestored!));
  if (ages.length > 0) {
    rpo = Math.max(0, ...ages);
    basis = 'heartbeat';
  } else if (input.faultAt && input.recoveryPoint) {
    rpo = Math.max(0, input.faultAt.getTime() - Date.parse(input.recoveryPoint));
    basis = 'backup-time';
  }
  return {
    rto_ms: rto,
    rpo_ms: rpo,
    rpo_basis: basis,
    rto_met: rto === null ? null : rto <= parseDuration(input.objectives.rto),
    rpo_met: rpo === null ? null : rpo <= parseDuration(input.objectives.rpo),
    data_loss: dataLoss,
  };
}

function sameLoad(before: Beat, after: Beat): boolean {
  return before.loadedSha256 === after.loadedSha256 && before.loaded?.sequence === after.loaded?.sequence;
}
