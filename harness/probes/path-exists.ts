import { glob } from 'tinyglobby';
import { expand, locationDir, type Location } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';

/** Something matches `pattern` in a location (exists = true), or nothing does (exists = false). */
export async function pathExists(input: { in: Location; glob: string; exists: boolean }, ctx: ProbeContext): Promise<ProbeResult> {
  const pattern = expand(ctx, input.glob);
  const probe = `path-exists ${input.in}:${pattern} = ${input.exists}`;
  const matches = (await glob(pattern, { cwd: locationDir(ctx, input.in), dot: true, onlyFiles: false, expandDirectories: false })).sort();
  const found = matches.length > 0;
  return { probe, ok: found === input.exists, detail: found ? `found ${matches.slice(0, 10).join(', ')}` : 'nothing matches' };
}
