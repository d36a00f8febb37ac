import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import { validateToml } from '../../lib/state/index.ts';
import type { Probe } from '../scenario/index.ts';
import { matchesBackup } from './matches-backup.ts';
import { locationDir } from './locate.ts';
import { describeChaosProbe, runChaosProbe } from './run-chaos-probe.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';

/** Run one probe. Never throws: a probe that cannot run has failed, with the reason. */
export async function runProbe(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  try {
    return await dispatch(probe, ctx);
  } catch (error) {
    return { probe: describeProbe(probe), ok: false, detail: `probe error: ${(error as Error).message}` };
  }
}

export function describeProbe(probe: Probe): string {
  switch (probe.probe) {
    case 'http':
      return `http ${probe.service}${probe.path} = ${probe.status}`;
    case 'toml-valid':
      return `toml-valid ${[probe.glob].flat().join(' ')}`;
    case 'matches-backup':
      return `matches-backup ${probe.paths.join(' ')}${probe.date ? ` (backup ${probe.date})` : ''}`;
    case 'corrupt-copy-preserved':
      return `corrupt-copy-preserved ${probe.module}`;
    case 'service-healthy':
      return `service-healthy ${probe.service}`;
    case 'no-temp-files':
      return `no-temp-files ${probe.in === 'root' ? '' : `${probe.in}:`}${probe.paths.join(' ')}`;
    case 'not':
      return `not (${describeProbe(probe.of)})`;
    default:
      return describeChaosProbe(probe);
  }
}

async function dispatch(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  const name = describeProbe(probe);
  switch (probe.probe) {
    case 'http': {
      const url = await ctx.stack.url(probe.service, probe.path);
      const response = await fetch(url, { signal: AbortSignal.timeout(3000) }).catch((e: Error) => e);
      if (response instanceof Error) return { probe: name, ok: probe.status === 0, detail: `GET ${url}: ${response.message}` };
      const body = await response.text();
      const statusOk = response.status === probe.status;
      const bodyOk = probe.body_contains === undefined || body.includes(probe.body_contains);
      return { probe: name, ok: statusOk && bodyOk, detail: `GET ${probe.path} → ${response.status} ${body.slice(0, 300)}` };
    }
    case 'service-healthy': {
      const health = await ctx.stack.health(probe.service);
      return { probe: name, ok: health.status === 200, detail: `/health → ${health.status} ${JSON.stringify(health.body).slice(0, 300)}` };
    }
    case 'toml-valid': {
      const files = (await glob([probe.glob].flat(), { cwd: ctx.root, dot: true, onlyFiles: true, ignore: probe.exclude })).sort();
      const invalid: string[] = [];
      for (const file of files) {
        const check = validateToml(await readFile(join(ctx.root, file)));
        if (!check.ok) invalid.push(`${file}: ${check.reason}`);
      }
      const ok = files.length > 0 && invalid.length === 0;
      return { probe: name, ok, detail: files.length === 0 ? 'no file matched' : invalid.length === 0 ? `${files.length} file(s) valid` : invalid.join('; ') };
    }
    case 'matches-backup':
      return matchesBackup(probe.paths, ctx, probe.date);
    case 'corrupt-copy-preserved':
      return corruptCopyPreserved(probe.module, ctx);
    case 'no-temp-files': {
      const base = locationDir(ctx, probe.in);
      const leftovers = (await glob(probe.paths.map((p) => `${p === '.' ? '' : `${p}/`}**/{${TEMP_NAMES.join(',')}}`), { cwd: base, dot: true, onlyFiles: false })).sort();
      const rootLevel = (await readdir(base)).filter((n) => /^\.ark-(restore|disk-recovery|recovering|upload)-/.test(n));
      const all = [...leftovers, ...rootLevel.filter((n) => !leftovers.includes(n) && !leftovers.includes(`${n}/`))];
      return { probe: name, ok: all.length === 0, detail: all.length === 0 ? 'none' : all.join(', ') };
    }
    case 'not': {
      // A probe that could not run proves nothing either way: `not` of an error fails.
      const inner = await dispatch(probe.of, ctx);
      return { probe: name, ok: !inner.ok, detail: `${inner.ok ? 'holds' : 'does not hold'}: ${inner.detail}` };
    }
    default:
      return runChaosProbe(probe, ctx);
  }
}

/** What the scripts name their work in progress (restore staging, disk-recovery work folder, rebuilt backup, upload, atomic write, partial backup). */
const TEMP_NAMES = ['.ark-restore-*', '.ark-disk-recovery-*', '.ark-recovering-*', '.ark-upload-*', '.*.tmp-*', '.arkalia_*.partial-*'];

/** The restore preserved the corrupted state: the exact damaged bytes of every fault on this module. */
async function corruptCopyPreserved(module: string, ctx: ProbeContext): Promise<ProbeResult> {
  const name = `corrupt-copy-preserved ${module}`;
  const dir = join(ctx.backupDir, 'preserved');
  const copies = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(`${module}_state_`)).sort();
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
    detail: missing.length === 0 ? `${join(dir, newest)} holds the corrupted bytes of ${damaged.map((f) => f.path).join(', ') || 'the state'}` : `not preserved byte for byte: ${missing.join(', ')}`,
  };
}
