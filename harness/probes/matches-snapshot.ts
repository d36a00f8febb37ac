import { z } from 'zod';
import { inPath, location } from '../scenario/fields.ts';
import { expand, type Location, locationDir } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { hashFiles } from './tree-snapshot.ts';
import { defineProbe } from './probe.ts';

/** Files equal (byte for byte, none missing, none extra) to the runner's snapshot taken before the fault or before the recovery. */
const schema = z.strictObject({
  probe: z.literal('matches-snapshot'),
  in: location('root'),
  paths: z.array(inPath).min(1).default(['.']),
  at: z.enum(['fault', 'recovery']).default('fault'),
  ignore_heartbeat: z.boolean().default(false),
});

export const matchesSnapshotProbe = defineProbe({
  probe: 'matches-snapshot',
  schema,
  needsStack: false,
  describe: (probe) => `matches-snapshot ${probe.in}:${probe.paths.join(',')} (before the ${probe.at})`,
  run: (probe, ctx) =>
    matchesSnapshot({ in: probe.in, paths: probe.paths, at: probe.at, ignoreHeartbeat: probe.ignore_heartbeat }, ctx),
});

/**
 * Files under `paths` (of a location) are exactly what the runner hashed before the fault (or
 * before the recovery): none changed, none missing, none extra. "The live tree is unchanged"
 * after a recovery that is expected to fail cleanly. `ignoreHeartbeat`: a stand-in's heartbeat
 * block may differ (the services keep writing it).
 */
export async function matchesSnapshot(
  input: { in: Location; paths: readonly string[]; at: 'fault' | 'recovery'; ignoreHeartbeat: boolean },
  ctx: ProbeContext,
): Promise<ProbeResult> {
  const probe = `matches-snapshot ${input.in}:${input.paths.join(',')} (before the ${input.at})`;
  const snapshot = ctx.snapshots?.[input.at]?.[input.in];
  if (!snapshot) return { probe, ok: false, detail: `no snapshot was taken before the ${input.at}` };
  const now = await hashFiles(locationDir(ctx, input.in));
  const prefixes = input.paths.map((p) => expand(ctx, p).replace(/\/+$/, '')).map((p) => (p === '.' ? '' : `${p}/`));
  const under = (rel: string) => prefixes.some((p) => p === '' || rel.startsWith(p) || `${rel}/` === p);
  const problems: string[] = [];
  let compared = 0;
  for (const [rel, before] of snapshot) {
    if (!under(rel)) continue;
    compared += 1;
    const after = now.get(rel);
    if (!after) problems.push(`${rel}: missing`);
    else if (
      input.ignoreHeartbeat ? after.withoutHeartbeat !== before.withoutHeartbeat : after.sha256 !== before.sha256
    )
      problems.push(`${rel}: changed`);
  }
  for (const rel of now.keys()) if (under(rel) && !snapshot.has(rel)) problems.push(`${rel}: new`);
  if (compared === 0 && problems.length === 0)
    return { probe, ok: true, detail: `nothing there before the ${input.at}, nothing now` };
  return {
    probe,
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `${compared} file(s) unchanged since before the ${input.at}`
        : problems.slice(0, 20).join('; '),
  };
}
