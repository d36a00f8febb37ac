import type { Probe } from '../scenario/index.ts';
import { backupVerifies } from './backup-verifies.ts';
import { checksumsVerify } from './checksums-verify.ts';
import { freeSpace } from './free-space.ts';
import { gpgDecrypts } from './gpg-decrypts.ts';
import { matchesSnapshot } from './matches-snapshot.ts';
import { metricPresent } from './metric-present.ts';
import { offsiteMatches } from './offsite-matches.ts';
import { pathExists } from './path-exists.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { snapshotMatchesState } from './snapshot-matches-state.ts';
import { urlProbe } from './url-probe.ts';

/** The chaos suite's probes (run-probe.ts handles the original ones and `not`). */
export type ChaosProbe = Extract<Probe, { probe: 'matches-snapshot' | 'path-exists' | 'backup-verifies' | 'checksums-verify' | 'gpg-decrypts' | 'snapshot-matches-state' | 'offsite-matches' | 'url' | 'free-space' | 'metric-present' }>;

export function describeChaosProbe(probe: ChaosProbe): string {
  switch (probe.probe) {
    case 'matches-snapshot':
      return `matches-snapshot ${probe.in}:${probe.paths.join(',')} (before the ${probe.at})`;
    case 'path-exists':
      return `path-exists ${probe.in}:${probe.glob} = ${probe.exists}`;
    case 'backup-verifies':
      return `backup-verifies ${probe.date}`;
    case 'checksums-verify':
      return `checksums-verify ${probe.in}:${probe.file}`;
    case 'gpg-decrypts':
      return `gpg-decrypts ${probe.in}:${probe.glob} with ${probe.key_in}:${probe.key}`;
    case 'snapshot-matches-state':
      return `snapshot-matches-state ${[probe.glob].flat().join(' ')}`;
    case 'offsite-matches':
      return `offsite-matches ${probe.target}`;
    case 'url':
      return `url ${probe.url} = ${probe.status}`;
    case 'free-space':
      return `free-space ${probe.in}:${probe.path} ≤ ${probe.at_most}`;
    case 'metric-present':
      return `metric-present ${probe.metric}`;
  }
}

export async function runChaosProbe(probe: ChaosProbe, ctx: ProbeContext): Promise<ProbeResult> {
  switch (probe.probe) {
    case 'matches-snapshot':
      return matchesSnapshot({ in: probe.in, paths: probe.paths, at: probe.at, ignoreHeartbeat: probe.ignore_heartbeat }, ctx);
    case 'path-exists':
      return pathExists({ in: probe.in, glob: probe.glob, exists: probe.exists }, ctx);
    case 'backup-verifies':
      return backupVerifies(probe.date, ctx);
    case 'checksums-verify':
      return checksumsVerify({ in: probe.in, file: probe.file }, ctx);
    case 'gpg-decrypts':
      return gpgDecrypts({ in: probe.in, glob: probe.glob, keyIn: probe.key_in, key: probe.key }, ctx);
    case 'snapshot-matches-state':
      return snapshotMatchesState([probe.glob].flat(), ctx);
    case 'offsite-matches':
      return offsiteMatches(probe.target, ctx);
    case 'url':
      return urlProbe({ url: probe.url, status: probe.status, ...(probe.body_contains === undefined ? {} : { bodyContains: probe.body_contains }) }, ctx);
    case 'free-space':
      return freeSpace({ in: probe.in, path: probe.path, atMost: probe.at_most }, ctx);
    case 'metric-present':
      return metricPresent({ in: probe.in, file: probe.file, metric: probe.metric, labels: probe.labels, ...(probe.min === undefined ? {} : { min: probe.min }) }, ctx);
  }
}
