import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { sha256Buffer } from '../../lib/checksum/index.ts';
import { defineProbe } from './probe.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { hashFiles } from './tree-snapshot.ts';

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

/**
 * The restore kept what it replaced, for the post-mortem: every file the module's state folder
 * held when the recovery began is either in the newest preserved copy (the restore replaced
 * it) or still in place as it was, heartbeat aside (the restore left it alone). The copy's
 * content is what the folder held when the restore stopped its writers, which a drill cannot
 * see (a writer keeps cycling until then: zeroia's backup copy moves on each cycle); what it
 * can see is checked byte for byte: the exact damaged bytes of every fault on this module
 * that were still there when the recovery began. A real writer may have
 * destroyed the damage itself before anyone could act (zeroia overwrites a state it cannot
 * parse): the copy then holds what was there, and the detail says so.
 */
async function corruptCopyPreserved(module: string, ctx: ProbeContext): Promise<ProbeResult> {
  const name = `corrupt-copy-preserved ${module}`;
  const dir = join(ctx.backupDir, 'preserved');
  const copies = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => n.startsWith(`${module}_state_`))
    .sort();
  const newest = copies.at(-1);
  if (!newest) return { probe: name, ok: false, detail: `nothing under ${dir} for ${module}` };
  const copyDir = join(dir, newest);
  const prefix = `modules/${module}/state/`;
  const before = ctx.snapshots?.recovery?.root;
  const problems: string[] = [];
  const gone: string[] = [];
  if (before) {
    const [copy, live] = await Promise.all([hashFiles(copyDir), hashFiles(join(ctx.root, prefix))]);
    for (const [rel, print] of before) {
      if (!rel.startsWith(prefix)) continue;
      const name = rel.slice(prefix.length);
      if (!copy.has(name) && live.get(name)?.withoutHeartbeat !== print.withoutHeartbeat)
        problems.push(`${rel}: replaced, and not in the copy`);
    }
  }
  const damaged = ctx.faults.filter((f) => f.path?.startsWith(prefix) && f.damaged !== undefined);
  for (const fault of damaged) {
    const at = before?.get(fault.path!);
    if (before && at?.sha256 !== sha256Buffer(fault.damaged!)) {
      gone.push(fault.path!);
      continue; // not there when the recovery began: nothing of it left to keep
    }
    const copy = await readFile(join(copyDir, fault.path!.slice(prefix.length))).catch(() => null);
    if (!copy?.equals(fault.damaged!)) problems.push(`${fault.path}: its damaged bytes are not kept byte for byte`);
  }
  const note =
    gone.length > 0
      ? `; the damage to ${gone.join(', ')} was gone before the recovery began (its writer overwrote it)`
      : '';
  return {
    probe: name,
    ok: problems.length === 0,
    detail:
      problems.length === 0
        ? `${copyDir} holds the state as the recovery found it${damaged.length > gone.length ? ', damaged bytes included' : ''}${note}`
        : problems.slice(0, 10).join('; '),
  };
}
