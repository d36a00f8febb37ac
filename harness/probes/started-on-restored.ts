import { readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { sha256Buffer } from '../../lib/checksum/index.ts';
import { listDailyBackups, parseBackupDirName, statesArchiveName } from '../../lib/layout/index.ts';
import { tempDir } from '../../lib/testing.ts';
import { relPath, serviceName } from '../scenario/fields.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { defineProbe } from './probe.ts';

/**
 * A writer was stopped for the swap and started again on the restored file: its container
 * started after the recovery began, and the last "started on" line of its log names the
 * sha256 of `path` in the backup the recovery used. A writer that kept running through the
 * recovery fails the first check; one stopped too late (it wrote over the restored file
 * before it stopped) fails the second.
 */
const schema = z.strictObject({
  probe: z.literal('started-on-restored'),
  service: serviceName,
  path: relPath,
});

export const startedOnRestoredProbe = defineProbe({
  probe: 'started-on-restored',
  schema,
  needsStack: true,
  describe: (probe) => `started-on-restored ${probe.service} ${probe.path}`,
  run: (probe, ctx) => startedOnRestored(probe.service, probe.path, ctx),
});

async function startedOnRestored(service: string, path: string, ctx: ProbeContext): Promise<ProbeResult> {
  const probe = `started-on-restored ${service} ${path}`;
  const expected = await backupSha256(path, ctx);
  if (expected === null) return { probe, ok: false, detail: `the backup holds no ${path}` };
  const { default: Dockerode } = await import('dockerode');
  const container = ctx.stack.containerName(service);
  const info = await new Dockerode()
    .getContainer(container)
    .inspect()
    .catch(() => null);
  if (!info?.State.Running) return { probe, ok: false, detail: `${container} is not running` };
  const startedAt = new Date(info.State.StartedAt);
  if (ctx.recoveryStartedAt === undefined || startedAt <= ctx.recoveryStartedAt)
    return {
      probe,
      ok: false,
      detail: `${service} was not restarted by the recovery: it kept running (started ${startedAt.toISOString()}, the recovery began ${ctx.recoveryStartedAt?.toISOString() ?? 'never'})`,
    };
  const lines = (await ctx.stack.logs(service, 500)).split('\n');
  const last = lines
    .map((l) => new RegExp(`${service} started on \\S+ sha256=(\\w+)`).exec(l)?.[1])
    .filter(Boolean)
    .at(-1);
  if (last !== expected)
    return {
      probe,
      ok: false,
      detail: `${service} started on sha256 ${last ?? 'unknown'}, but the backup's ${path} is ${expected}: something wrote it between the swap and the restart`,
    };
  return {
    probe,
    ok: true,
    detail: `${service} restarted at ${startedAt.toISOString()} on the restored ${path} (sha256 ${expected.slice(0, 12)}…)`,
  };
}

/** sha256 of `path` in the states archive of the backup the recovery used (else the newest). */
async function backupSha256(path: string, ctx: ProbeContext): Promise<string | null> {
  const used = ctx.recoveryResult?.backup as { dir?: string } | undefined;
  const dir = used?.dir ?? (await listDailyBackups(ctx.backupDir)).backups[0]?.dir;
  const date = dir ? parseBackupDirName(basename(dir)) : null;
  if (!dir || !date) return null;
  const staging = await tempDir('ark-probe-');
  try {
    const { extractArchive } = await import('../../lib/archive/index.ts');
    await extractArchive({ file: join(dir, statesArchiveName(date)), cwd: staging, select: (m) => m === path });
    return sha256Buffer(await readFile(join(staging, path)));
  } catch {
    return null;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
