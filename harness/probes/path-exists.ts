import { glob } from 'tinyglobby';
import { z } from 'zod';
import { inPath, location } from '../scenario/fields.ts';
import { expand, locationDir, type Location } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { defineProbe } from './probe.ts';

/** Something matches (or nothing matches) a glob. */
const schema = z.strictObject({
  probe: z.literal('path-exists'),
  in: location('root'),
  glob: inPath,
  exists: z.boolean().default(true),
});

export const pathExistsProbe = defineProbe({
  probe: 'path-exists',
  schema,
  needsStack: false,
  describe: (probe) => `path-exists ${probe.in}:${probe.glob} = ${probe.exists}`,
  run: (probe, ctx) => pathExists({ in: probe.in, glob: probe.glob, exists: probe.exists }, ctx),
});

/** Something matches `pattern` in a location (exists = true), or nothing does (exists = false). */
export async function pathExists(
  input: { in: Location; glob: string; exists: boolean },
  ctx: ProbeContext,
): Promise<ProbeResult> {
  const pattern = expand(ctx, input.glob);
  const probe = `path-exists ${input.in}:${pattern} = ${input.exists}`;
  const matches = (
    await glob(pattern, { cwd: locationDir(ctx, input.in), dot: true, onlyFiles: false, expandDirectories: false })
  ).sort();
  const found = matches.length > 0;
  return {
    probe,
    ok: found === input.exists,
    detail: found ? `found ${matches.slice(0, 10).join(', ')}` : 'nothing matches',
  };
}
