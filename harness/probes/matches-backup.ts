import { lstat, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { sha256Buffer } from '../../lib/checksum/index.ts';
import { tempDir } from '../../lib/testing.ts';
import { relPath } from '../scenario/fields.ts';
import { STANDIN_SERVICES, stripHeartbeat } from '../arkalia/index.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { listDailyBackups, parseBackupDirName, statesArchiveName } from '../../lib/layout/index.ts';
import { defineProbe } from './probe.ts';

/** `date`: the recovery must have used that backup (a fallback drill), and the files must match it. */
const schema = z.strictObject({
  probe: z.literal('matches-backup'),
  paths: z.array(relPath).min(1),
  date: z
    .string()
    .regex(/^\d{8}$/)
    .optional(),
});

export const matchesBackupProbe = defineProbe({
  probe: 'matches-backup',
  schema,
  needsStack: false,
  describe: (probe) => `matches-backup ${probe.paths.join(' ')}${probe.date ? ` (backup ${probe.date})` : ''}`,
  run: (probe, ctx) => matchesBackup(probe.paths, ctx, probe.date),
});

/**
 * Every file under `paths` equals the backup's copy byte for byte, and no file is extra
 * (with `date`: the backup the recovery reports it used must be that one).
 * A state file that a running stand-in has rewritten since (it appends a heartbeat with a
 * new sequence) passes only if (a) the service reports that the bytes it loaded at start
 * have the backup's sha256, and (b) everything but the heartbeat block is byte-identical.
 */
export async function matchesBackup(
  paths: readonly string[],
  ctx: ProbeContext,
  expectedDate?: string,
): Promise<ProbeResult> {
  const probe = `matches-backup ${paths.join(' ')}${expectedDate ? ` (backup ${expectedDate})` : ''}`;
  const used = ctx.recoveryResult?.backup as { dir?: string; date?: string } | undefined;
  // A fallback drill names the backup the recovery must have fallen back to.
  if (expectedDate !== undefined && used?.date !== expectedDate)
    return { probe, ok: false, detail: `the recovery used backup ${used?.date ?? 'unknown'}, not ${expectedDate}` };
  const backupDir = used?.dir ?? (await listDailyBackups(ctx.backupDir)).backups[0]?.dir;
  if (!backupDir) return { probe, ok: false, detail: 'no backup found' };
  const date = parseBackupDirName(basename(backupDir)) ?? undefined;
  const staging = await tempDir('ark-probe-');
  try {
    return await compareWithBackup(probe, paths, ctx, backupDir, date, staging);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function compareWithBackup(
  probe: string,
  paths: readonly string[],
  ctx: ProbeContext,
  backupDir: string,
  date: string | undefined,
  staging: string,
): Promise<ProbeResult> {
  const prefixes = paths.map((p) => (p.endsWith('/') ? p : `${p}/`));
  // The restore and archive stages load only when a drill compares with a backup.
  const [{ extractArchive }, { hashTree }] = await Promise.all([
    import('../../lib/archive/index.ts'),
    import('../../lib/restore/index.ts'),
  ]);
  await extractArchive({
    file: join(backupDir, statesArchiveName(date!)),
    cwd: staging,
    select: (m) => prefixes.some((p) => m.startsWith(p) || `${m}/` === p),
  });
  const problems: string[] = [];
  let compared = 0;
  for (const prefix of prefixes) {
    // A path given without a trailing "/" may name one file: compared as the folder's only member.
    const single = !paths.includes(prefix) && (await isFile(join(staging, prefix.slice(0, -1))));
    const file = prefix.slice(0, -1);
    const fromBackup = single
      ? new Map([[basename(file), await sha256OfFile(join(staging, file))]])
      : await hashTree(join(staging, prefix));
    const live = single
      ? new Map(
          (await isFile(join(ctx.root, file))) ? [[basename(file), await sha256OfFile(join(ctx.root, file))]] : [],
        )
      : await hashTree(join(ctx.root, prefix));
    for (const [name, sha] of fromBackup) {
      compared += 1;
      const path = single ? file : `${prefix}${name}`;
      const liveSha = live.get(name);
      if (liveSha === undefined) problems.push(`${path}: missing`);
      else if (liveSha !== sha) {
        const why = await heartbeatOnlyDifference(path, join(staging, path), ctx, sha);
        if (why) problems.push(`${path}: ${why}`);
      }
    }
    for (const name of live.keys())
      if (!fromBackup.has(name)) problems.push(`${single ? file : `${prefix}${name}`}: not in the backup`);
  }
  if (compared === 0) problems.push(`the backup holds nothing under ${paths.join(', ')}`);
  return {
    probe,
    ok: problems.length === 0,
    detail: problems.length === 0 ? `${compared} file(s) match ${backupDir}` : problems.join('; '),
  };
}

/**
 * null when the only difference is what a running service wrote after it started on the
 * backup's exact bytes: a heartbeat in its state (TOML block, or the `standin` key of a JSON
 * file), lines appended to a .jsonl or log. For a service's main file, the service must also
 * report that the bytes it loaded at start have the backup's sha256.
 */
async function heartbeatOnlyDifference(
  path: string,
  backupCopy: string,
  ctx: ProbeContext,
  backupSha: string,
): Promise<string | null> {
  const owner = writerOf(path);
  if (!owner) return 'differs from the backup';
  const [live, backup] = await Promise.all([readFile(join(ctx.root, path), 'utf8'), readFile(backupCopy, 'utf8')]);
  if (owner.role === 'jsonl' || owner.role === 'log') {
    return live.startsWith(backup)
      ? null
      : `${owner.service} did not only append to it: the backup copy is not its start`;
  }
  const differs = `content differs from the backup (beyond the service heartbeat): ${Buffer.byteLength(live)} bytes here, ${Buffer.byteLength(backup)} in the backup`;
  if (path.endsWith('.json')) {
    if (!sameWithoutStandin(live, backup)) return differs;
  } else if (stripHeartbeat(live) !== stripHeartbeat(backup)) return differs;
  if (owner.role === 'state' || owner.role === 'json') {
    const health = await ctx.stack.health(owner.service).catch(() => null);
    const loaded = (health?.body as { loaded_sha256?: string } | undefined)?.loaded_sha256;
    if (loaded !== backupSha)
      return `service ${owner.service} loaded sha256 ${loaded ?? 'unknown'}, backup has ${backupSha}`;
  }
  return sha256Buffer(backup) === backupSha ? null : 'backup copy changed while comparing';
}

/** Which stand-in writes `path` and as what (traits.mjs). */
function writerOf(path: string): { service: string; role: string } | null {
  for (const [service, profile] of Object.entries(STANDIN_SERVICES))
    for (const [role, file] of Object.entries(profile.files)) if (file === path) return { service, role };
  return null;
}

function sameWithoutStandin(a: string, b: string): boolean {
  try {
    const strip = (text: string) => {
      const { standin: _beat, ...rest } = JSON.parse(text) as Record<string, unknown>;
      return JSON.stringify(rest);
    };
    return strip(a) === strip(b);
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => null))?.isFile() ?? false;
}

async function sha256OfFile(path: string): Promise<string> {
  return sha256Buffer(await readFile(path));
}
