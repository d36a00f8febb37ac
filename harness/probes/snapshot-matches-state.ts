import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { glob } from 'tinyglobby';
import { z } from 'zod';
import { validateToml } from '../../lib/state/index.ts';
import { readHeartbeat, stripHeartbeat } from '../arkalia/index.ts';
import { inPath } from '../scenario/fields.ts';
import { expand } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { defineProbe } from './probe.ts';

/** The newest real-time snapshot of each valid state file is valid TOML and byte-identical to it (a running writer's heartbeat aside); an invalid state file was never snapshotted as it is. */
const schema = z.strictObject({
  probe: z.literal('snapshot-matches-state'),
  glob: z.union([inPath, z.array(inPath).min(1)]),
});

export const snapshotMatchesStateProbe = defineProbe({
  probe: 'snapshot-matches-state',
  schema,
  needsStack: false,
  describe: (probe) => `snapshot-matches-state ${[probe.glob].flat().join(' ')}`,
  run: (probe, ctx) => snapshotMatchesState([probe.glob].flat(), ctx),
});

const SNAPSHOT = /^(?!\.)(.+)\.(\d{8}_\d{6}(?:_\d{3})?)$/;

/**
 * The runbook's test_state_backup_integrity: under <backup>/realtime/, every snapshot of the
 * matched state files is valid TOML; the newest snapshot of each valid state file is
 * byte-identical to it, or differs only by the heartbeat of the service that keeps writing
 * it (ZeroIA rewrites its state every cycle); an invalid state file never had its bytes
 * snapshotted.
 */
export async function snapshotMatchesState(patterns: readonly string[], ctx: ProbeContext): Promise<ProbeResult> {
  const globs = patterns.map((p) => expand(ctx, p));
  const probe = `snapshot-matches-state ${globs.join(' ')}`;
  const files = (await glob(globs, { cwd: ctx.root, dot: true, onlyFiles: true })).sort();
  if (files.length === 0) return { probe, ok: false, detail: 'no state file matched' };
  const problems: string[] = [];
  let identical = 0;
  let moved = 0;
  let refused = 0;
  for (const file of files) {
    const live = await readFile(join(ctx.root, file));
    const snapDir = join(ctx.backupDir, 'realtime', dirname(file));
    const names = (await readdir(snapDir).catch(() => [] as string[]))
      .filter((n) => SNAPSHOT.exec(n)?.[1] === basename(file))
      .sort();
    for (const name of names) {
      const check = validateToml(await readFile(join(snapDir, name)));
      if (!check.ok) problems.push(`${file}: snapshot ${name} is not valid TOML (${check.reason})`);
    }
    const newest = names.at(-1);
    if (validateToml(live).ok) {
      if (newest === undefined) problems.push(`${file}: valid, but never snapshotted`);
      else {
        const snapshot = await readFile(join(snapDir, newest));
        if (snapshot.equals(live)) identical += 1;
        else if (heartbeatOnly(snapshot, live)) moved += 1;
        else problems.push(`${file}: newest snapshot ${newest} differs from the live file`);
      }
    } else {
      for (const name of names)
        if ((await readFile(join(snapDir, name))).equals(live))
          problems.push(`${file}: invalid, yet snapshotted as ${name}`);
      refused += 1;
    }
  }
  return {
    probe,
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `${identical} snapshot(s) byte-identical to their state file${moved > 0 ? `, ${moved} equal to it but for the heartbeat its service wrote since` : ''}; ${refused} invalid file(s) never snapshotted`
        : problems.slice(0, 10).join('; '),
  };
}

/** The live file is the snapshot with a newer heartbeat: what a running service wrote since. */
function heartbeatOnly(snapshot: Buffer, live: Buffer): boolean {
  const text = live.toString('utf8');
  return readHeartbeat(text) !== null && stripHeartbeat(text) === stripHeartbeat(snapshot.toString('utf8'));
}
