import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineProbe } from './probe.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';

const schema = z.strictObject({
  probe: z.literal('corrupt-copy-preserved'),
  module: z.string().regex(/^[a-z][a-z0-9_]*$/),
});

export const corruptCopyPreservedProbe = defineProbe({
  probe: 'corrupt-copy-preserved',
  schema,
  needsStack: false,
  describe: (probe) => `corrupt-copy-preserved ${probe.module}`,
  run: (probe, ctx) => corruptCopyPreserved(probe.module, ctx),
});

/** The restore preserved the corrupted state: the exact damaged bytes of every fault on this module. */
async function corruptCopyPreserved(module: string, ctx: ProbeContext): Promise<ProbeResult> {
  const name = `corrupt-copy-preserved ${module}`;
  const dir = join(ctx.backupDir, 'preserved');
  const copies = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => n.startsWith(`${module}_state_`))
    .sort();
  const newest = copies.at(-1);
  if (!newest) return { probe: name, ok: false, detail: `nothing under ${dir} for ${module}` };
  const prefix = `modules/${module}/state/`;
  const damaged = ctx.faults.filter((f) => f.path?.startsWith(prefix) && f.damaged !== undefined);
  const missing: string[] = [];
  for (const fault of damaged) {
    const copy = await readFile(join(dir, newest, fault.path!.slice(prefix.length))).catch(() => null);
    if (!copy?.equals(fault.damaged!)) missing.push(fault.path!);
  }
  return {
    probe: name,
    ok: missing.length === 0,
    detail:
      missing.length === 0
        ? `${join(dir, newest)} holds the corrupted bytes of ${damaged.map((f) => f.path).join(', ') || 'the state'}`
        : `not preserved byte for byte: ${missing.join(', ')}`,
  };
}
