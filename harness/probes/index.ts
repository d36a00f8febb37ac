// probes: steady-state, detection and verification checks. A probe never throws: it passes
// or fails with a detail that goes into the journal and the report.
export { runProbe, describeProbe } from './run-probe.ts';
export { matchesBackup } from './matches-backup.ts';
export { takeTreeSnapshot, type TreeSnapshot } from './tree-snapshot.ts';
export { parseTextfile } from './metric-present.ts';
export type { ProbeContext, ProbeResult } from './probe-context.ts';
