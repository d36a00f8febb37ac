import type { SummaryRow } from './summarize.ts';

// The bench's verdict: each target of the issues that set one (full-backup ≤ 0.5× the runbook,
// encryption ≤ +20%, recovery points, issue 17's restore, recovery and one-module ratios,
// peak memory), worked out from the summary rows. Met or NOT met, never hidden: a phase that
// was not run says so.

export interface TargetFacts {
  rows: readonly SummaryRow[];
  /** The phases this bench ran (`--only`). */
  phases: ReadonlySet<string>;
  encryptAll: boolean;
  /** Seven unchanged points against one, as du counts them (points phase). */
  pointsSpace: { points: number; allBytes: number; oneBytes: number } | null;
  /** GNU tar -tzf and gzip -t on every archive we wrote. */
  gnuReadable: string;
  /** diff -r of our recovered root against the runbook's: 'yes', 'NO (…)' or null when not run. */
  recoveredSame: string | null;
  /** diff -r of the restored module against the corpus's. */
  moduleSame: string | null;
}

const MIB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MIB).toFixed(0)} MiB`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const verdict = (met: boolean, ...used: (SummaryRow | undefined)[]) => {
  const failed = used.reduce((n, r) => n + (r?.failed ?? 0), 0);
  return failed > 0 ? `NOT met (${failed} run(s) failed)` : met ? 'met' : 'NOT met';
};
const perRun = (r: SummaryRow) =>
  r.runRatios
    ? ` (per run ${r.runRatios.min.toFixed(2)}–${r.runRatios.median.toFixed(2)}–${r.runRatios.max.toFixed(2)}×)`
    : '';

/** The "targets:" lines of the bench's report. */
export function targetLines(facts: TargetFacts): string[] {
  const { rows, phases } = facts;
  const find = (phase: string, prefix: string) => rows.find((r) => r.phase === phase && r.tool.startsWith(prefix));
  const ours = rows.filter((r) => r.tool.startsWith('arkalia-dr'));
  const backup = find('backup', 'arkalia-dr full-backup');
  const encrypt = find('encrypt', 'arkalia-dr');
  const lines: string[] = [];

  lines.push(
    backup?.ratio != null
      ? `full-backup ≤ 0.5× the runbook (stretch ≤ 0.25×): ${backup.ratio.toFixed(2)}×${perRun(backup)} — ${backup.ratio <= 0.25 ? 'met, stretch too' : verdict(backup.ratio <= 0.5, backup)}`
      : 'full-backup: not measured',
    backup && encrypt
      ? `encryption adds ≤ 20%: +${((100 * encrypt.medianWallMs) / backup.medianWallMs).toFixed(0)}% (${facts.encryptAll ? 'every archive' : 'offsite archives only'}) — ${verdict(encrypt.medianWallMs <= 0.2 * backup.medianWallMs, backup, encrypt)}`
      : 'encryption: not measured',
    `peak RSS ≤ 256 MiB: ${ours.map((r) => `${r.phase}/${r.tool.replace('arkalia-dr', '').replace(/^[,:\s]+/, '') || 'default'} ${r.maxRssBytes === null ? '?' : mib(r.maxRssBytes)}`).join(', ') || 'nothing measured'} — ${verdict(ours.length > 0 && ours.every((r) => r.maxRssBytes !== null && r.maxRssBytes <= 256 * MIB), ...ours)}`,
  );

  if (phases.has('points')) {
    const again = find('points', 'arkalia-dr full-backup right after');
    const resticAgain = find('points', 'restic backup right after');
    const hourly = find('points', 'arkalia-dr full-backup --point');
    const space = facts.pointsSpace;
    lines.push(
      again?.ratio != null
        ? `backup right after a backup, nothing changed ≤ 0.1× the first: ${again.ratio.toFixed(3)}× (${s(again.medianWallMs)}) — ${verdict(again.ratio <= 0.1, again)}`
        : 'backup right after a backup: not measured',
      again && resticAgain
        ? `… and no slower than restic's second backup (${s(resticAgain.medianWallMs)}): ${(again.medianWallMs / resticAgain.medianWallMs).toFixed(2)}× restic — ${verdict(again.medianWallMs <= resticAgain.medianWallMs, again, resticAgain)}`
        : "… restic's second backup: not measured (restic not installed)",
      hourly?.ratio != null
        ? `hourly database point ≤ 0.3× a full backup: ${hourly.ratio.toFixed(3)}× (${s(hourly.medianWallMs)}) — ${verdict(hourly.ratio <= 0.3, hourly)}`
        : 'hourly database point: not measured',
      space
        ? `${space.points} unchanged points ≤ 1.1× the space of one (du): ${mib(space.allBytes)} for ${space.points}, ${mib(space.oneBytes)} for one: ${(space.allBytes / space.oneBytes).toFixed(3)}× — ${verdict(space.allBytes <= 1.1 * space.oneBytes)}`
        : 'space of seven points: not measured',
    );
  } else lines.push('recovery points: not measured');

  lines.push(`gzip-compatible (GNU tar -tzf and gzip -t on every archive): ${facts.gnuReadable}`);

  if (phases.has('restore')) {
    const restore = find('restore', 'arkalia-dr');
    const restic = find('restore', 'restic restore');
    lines.push(
      restore && restic
        ? `restore of every archive no slower than restic restore (${s(restic.medianWallMs)}): ${s(restore.medianWallMs)}, ${(restore.medianWallMs / restic.medianWallMs).toFixed(2)}× restic — ${verdict(restore.medianWallMs <= restic.medianWallMs, restore, restic)}`
        : `restore of every archive against restic restore: not measured (${restore ? 'restic runs only with the backup phase, and only where it is installed' : 'our restore failed or did not run'})`,
    );
  }
  if (phases.has('recover')) {
    const recover = find('recover', 'arkalia-dr');
    const worst = recover?.runRatios?.max ?? null;
    lines.push(
      recover?.ratio != null
        ? `full-system recovery ≤ 1.5× the runbook, no run over 3×: ${recover.ratio.toFixed(2)}×${perRun(recover)} — ${verdict(recover.ratio <= 1.5 && worst !== null && worst <= 3, recover)}`
        : 'full-system recovery: not measured',
      `recovered root identical to the runbook's (diff -r): ${facts.recoveredSame ?? 'not checked'}`,
    );
  }
  if (phases.has('module')) {
    const module = find('module', 'arkalia-dr');
    lines.push(
      module?.ratio != null
        ? `one-module restore ≤ 2× the runbook's tar extraction of that folder: ${module.ratio.toFixed(2)}× (${s(module.medianWallMs)})${perRun(module)} — ${verdict(module.ratio <= 2, module)}`
        : 'one-module restore: not measured',
      `restored module identical to the corpus's (diff -r): ${facts.moduleSame ?? 'not checked'}`,
    );
  }
  return lines.map((line) => `  ${line}`);
}
