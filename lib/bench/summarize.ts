import type { Measurement } from './measure-command.ts';

// Pure: runs -> medians, ratios to the runbook, and the printed table.

export interface ScenarioResult {
  /** "backup", "encrypt", "restore". */
  phase: string;
  /** "runbook (tar -czf + sha256sum)", "arkalia-dr", ... */
  tool: string;
  /** The row every other row of the phase is compared with. */
  baseline: boolean;
  runs: Measurement[];
  /** Bytes written (archives, repository), when known. */
  outputBytes: number | null;
  note?: string;
}

export interface SummaryRow {
  phase: string;
  tool: string;
  medianWallMs: number;
  medianCpuMs: number | null;
  maxRssBytes: number | null;
  ratio: number | null;
  /**
   * Each run's wall time over the baseline's in the same run (the runs are interleaved, so
   * a noisy neighbour slows both alike): the spread the median ratio hides.
   */
  runRatios: { min: number; median: number; max: number } | null;
  outputBytes: number | null;
  failed: number;
  note?: string;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(results: readonly ScenarioResult[]): SummaryRow[] {
  const baselines = new Map(
    results.filter((r) => r.baseline).map((r) => [r.phase, median(r.runs.map((m) => m.wallMs))]),
  );
  const baselineRuns = new Map(results.filter((r) => r.baseline).map((r) => [r.phase, r.runs]));
  return results.map((r) => {
    const ok = r.runs.filter((m) => m.code === 0);
    const wall = median(ok.map((m) => m.wallMs));
    const cpus = ok.flatMap((m) => (m.cpuMs === null ? [] : [m.cpuMs]));
    const rss = ok.flatMap((m) => (m.maxRssBytes === null ? [] : [m.maxRssBytes]));
    const base = baselines.get(r.phase);
    const pairs = r.runs.flatMap((m, i) => {
      const b = baselineRuns.get(r.phase)?.[i];
      return m.code === 0 && b !== undefined && b.code === 0 && b.wallMs > 0 ? [m.wallMs / b.wallMs] : [];
    });
    return {
      phase: r.phase,
      tool: r.tool,
      medianWallMs: wall,
      medianCpuMs: cpus.length > 0 ? median(cpus) : null,
      maxRssBytes: rss.length > 0 ? Math.max(...rss) : null,
      ratio: base && ok.length > 0 ? wall / base : null,
      runRatios:
        pairs.length > 0 && !r.baseline
          ? { min: Math.min(...pairs), median: median(pairs), max: Math.max(...pairs) }
          : null,
      outputBytes: r.outputBytes,
      failed: r.runs.length - ok.length,
      ...(r.note ? { note: r.note } : {}),
    };
  });
}

export function formatTable(rows: readonly SummaryRow[]): string {
  const header = [
    'phase',
    'tool',
    'median wall',
    'vs runbook',
    'per run (min–median–max)',
    'median CPU',
    'peak RSS',
    'output',
  ];
  const lines = rows.map((r) => [
    r.phase,
    r.tool + (r.failed > 0 ? ` (${r.failed} failed)` : ''),
    Number.isNaN(r.medianWallMs) ? 'failed' : `${(r.medianWallMs / 1000).toFixed(2)} s`,
    r.ratio === null ? '' : `${r.ratio.toFixed(2)}×`,
    r.runRatios === null
      ? ''
      : `${r.runRatios.min.toFixed(2)}–${r.runRatios.median.toFixed(2)}–${r.runRatios.max.toFixed(2)}×`,
    r.medianCpuMs === null ? '' : `${(r.medianCpuMs / 1000).toFixed(1)} s`,
    r.maxRssBytes === null ? '' : `${Math.round(r.maxRssBytes / 1024 / 1024)} MiB`,
    r.outputBytes === null ? '' : `${Math.round(r.outputBytes / 1024 / 1024)} MiB`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => [...l[i]!].length)));
  const row = (cells: string[]) => `| ${cells.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join(' | ')} |`;
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.tool}: ${r.note}`);
  return [
    row(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...lines.map(row),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
}

/** "1GiB", "512 MiB", "2g", "300M" -> bytes (powers of 1024). */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) return null;
  const power = ['', 'k', 'm', 'g', 't'].indexOf(m[2]!.toLowerCase());
  const value = Math.round(Number(m[1]) * 1024 ** power);
  return value > 0 ? value : null;
}
