import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { backupDate } from '../scenario/fields.ts';
import { expand } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { backupDirName, checksumFileName, listDailyBackups } from '../../lib/layout/index.ts';
import { defineProbe } from './probe.ts';

/** GNU `sha256sum -c` of a daily backup's checksum file, then `tar -tzf` of every archive it lists. */
const schema = z.strictObject({ probe: z.literal('backup-verifies'), date: backupDate.default('newest') });

export const backupVerifiesProbe = defineProbe({
  probe: 'backup-verifies',
  schema,
  needsStack: false,
  describe: (probe) => `backup-verifies ${probe.date}`,
  run: (probe, ctx) => backupVerifies(probe.date, ctx),
});

const run = promisify(execFile);

/**
 * The runbook's own check, with GNU tools rather than our code: `sha256sum -c` of the daily
 * backup's checksum file, then `tar -tzf` of every archive it lists (the archive reads to
 * its end). date: newest, YYYYMMDD or {date-Nd}.
 */
export async function backupVerifies(date: string, ctx: ProbeContext): Promise<ProbeResult> {
  const wanted = expand(ctx, date);
  const probe = `backup-verifies ${wanted}`;
  const { daily, backups } = await listDailyBackups(ctx.backupDir);
  const dates = backups.map((b) => b.date);
  const chosen = wanted === 'newest' ? dates[0] : dates.find((d) => d === wanted);
  if (chosen === undefined)
    return {
      probe,
      ok: false,
      detail: `no backup ${wanted === 'newest' ? 'at all' : `of ${wanted}`} in ${daily} (has ${dates.join(', ') || 'none'})`,
    };
  const dir = join(daily, backupDirName(chosen));
  const sums = checksumFileName(chosen);
  const listed = (await readFile(join(dir, sums), 'utf8').catch(() => null))
    ?.split('\n')
    .map((l) => /^[0-9a-f]{64} [ *](.+)$/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined);
  if (!listed) return { probe, ok: false, detail: `${dir}: ${sums} is missing` };
  const check = await run('sha256sum', ['-c', '--strict', sums], { cwd: dir }).then(
    () => null,
    (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`.trim(),
  );
  if (check !== null) return { probe, ok: false, detail: `sha256sum -c ${sums}: ${check.slice(0, 400)}` };
  for (const name of listed.filter((n) => n.endsWith('.tar.gz'))) {
    const listing = await run('tar', ['-tzf', name], { cwd: dir, maxBuffer: 64 * 1024 * 1024 }).then(
      () => null,
      (e: { stderr?: string }) => e.stderr ?? 'failed',
    );
    if (listing !== null) return { probe, ok: false, detail: `tar -tzf ${name}: ${listing.slice(0, 300)}` };
  }
  if (!listed.some((n) => n.startsWith('arkalia_states_')))
    return { probe, ok: false, detail: `${sums} does not list the states archive` };
  return { probe, ok: true, detail: `${dir}: sha256sum -c OK, tar -tzf reads ${listed.length} archive(s)` };
}
