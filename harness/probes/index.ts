// probes: steady-state, detection and verification checks, one file per kind. A probe never
// throws: it passes or fails with a detail that goes into the journal and the report; a probe
// that cannot run (an error, a missing container) has failed, with the reason, and so has
// `not` of it (a probe that could not run proves nothing either way).
// Adding a probe kind: write harness/probes/<kind>.ts exporting its defineProbe({ probe, schema,
// needsStack, describe, run }) (probe.ts), with its test, and add it to PROBES below; the
// scenario language, `not`, the stack check and runProbe take it from there.
import { z } from 'zod';
import { backupVerifiesProbe } from './backup-verifies.ts';
import { checksumsVerifyProbe } from './checksums-verify.ts';
import { containerExistsProbe } from './container-exists.ts';
import { corruptCopyPreservedProbe } from './corrupt-copy-preserved.ts';
import { freeSpaceProbe } from './free-space.ts';
import { gpgDecryptsProbe } from './gpg-decrypts.ts';
import { httpProbe } from './http.ts';
import { logContainsProbe } from './log-contains.ts';
import { matchesBackupProbe } from './matches-backup.ts';
import { matchesSnapshotProbe } from './matches-snapshot.ts';
import { metricPresentProbe } from './metric-present.ts';
import { noTempFilesProbe } from './no-temp-files.ts';
import { offsiteMatchesProbe } from './offsite-matches.ts';
import { pathExistsProbe } from './path-exists.ts';
import { recoveryErrorProbe } from './recovery-error.ts';
import type { ProbeDefinition } from './probe.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { serviceHealthyProbe } from './service-healthy.ts';
import { snapshotMatchesStateProbe } from './snapshot-matches-state.ts';
import { startedOnRestoredProbe } from './started-on-restored.ts';
import { tomlValidProbe } from './toml-valid.ts';
import { urlProbe } from './url.ts';

export { matchesBackup } from './matches-backup.ts';
export { takeTreeSnapshot, type TreeSnapshot } from './tree-snapshot.ts';
export { parseTextfile } from './metric-present.ts';
export { defineProbe, type ProbeDefinition } from './probe.ts';
export type { ProbeContext, ProbeResult } from './probe-context.ts';

/** Every probe kind (`not` aside). The order is the one a scenario's error message lists the kinds in. */
export const PROBES = [
  httpProbe,
  tomlValidProbe,
  matchesBackupProbe,
  corruptCopyPreservedProbe,
  serviceHealthyProbe,
  noTempFilesProbe,
  matchesSnapshotProbe,
  pathExistsProbe,
  backupVerifiesProbe,
  checksumsVerifyProbe,
  gpgDecryptsProbe,
  snapshotMatchesStateProbe,
  offsiteMatchesProbe,
  urlProbe,
  freeSpaceProbe,
  metricPresentProbe,
  startedOnRestoredProbe,
  containerExistsProbe,
  logContainsProbe,
  recoveryErrorProbe,
] as const;

// The schemas as a tuple (not an array), so that the union knows each kind's fields.
type Schemas<T extends readonly ProbeDefinition[]> = { -readonly [I in keyof T]: T[I]['schema'] };
const variants = PROBES.map((p) => p.schema) as Schemas<typeof PROBES>;

/** `{ probe = "not", of = { probe = ... } }` passes when its probe fails (e.g. a state is no longer valid TOML). */
export const probeSchema = z.discriminatedUnion('probe', [
  ...variants,
  z.strictObject({ probe: z.literal('not'), of: z.discriminatedUnion('probe', variants) }),
]);

export type Probe = z.infer<typeof probeSchema>;

/** The kinds that talk to the containers: refused in a `stack = false` scenario (also inside `not`). */
export const PROBES_NEEDING_STACK: ReadonlySet<string> = new Set(
  PROBES.filter((p) => p.needsStack).map((p) => p.probe),
);

const BY_KIND: ReadonlyMap<string, ProbeDefinition> = new Map(PROBES.map((p) => [p.probe, p]));

/** Run one probe. Never throws: a probe that cannot run has failed, with the reason. */
export async function runProbe(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  try {
    return await dispatch(probe, ctx);
  } catch (error) {
    return { probe: describeProbe(probe), ok: false, detail: `probe error: ${(error as Error).message}` };
  }
}

export function describeProbe(probe: Probe): string {
  if (probe.probe === 'not') return `not (${describeProbe(probe.of)})`;
  // probeSchema chose the definition's schema by this same `probe`: it has exactly its fields.
  return BY_KIND.get(probe.probe)!.describe(probe);
}

async function dispatch(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  if (probe.probe !== 'not') return BY_KIND.get(probe.probe)!.run(probe, ctx);
  // A probe that could not run proves nothing either way: `not` of an error fails.
  const inner = await dispatch(probe.of, ctx);
  return {
    probe: describeProbe(probe),
    ok: !inner.ok,
    detail: `${inner.ok ? 'holds' : 'does not hold'}: ${inner.detail}`,
  };
}
