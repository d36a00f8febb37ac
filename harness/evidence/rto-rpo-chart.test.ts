import { describe, expect, it } from 'vitest';
import type { HistoryLine } from './drill-history.ts';
import { rtoRpoChart } from './rto-rpo-chart.ts';

// The RTO/RPO chart: well-formed standalone SVG, one point per measured run, a gap where a
// run measured nothing, the objectives drawn, names escaped.

const run = (at: string, rto: number | null, rpo: number | null, status: HistoryLine['status'] = 'completed') => ({
  at,
  scenario: 'corrupt-zeroia-state',
  status,
  rto_ms: rto,
  rpo_ms: rpo,
});

/** Every tag closed in order, nothing outside the root: enough for the SVG we write. */
function wellFormed(svg: string): boolean {
  const stack: string[] = [];
  for (const [, close, name, selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    if (selfClosing) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0 && svg.trimStart().startsWith('<svg ') && svg.trimEnd().endsWith('</svg>');
}

describe('rtoRpoChart', () => {
  it('draws each measured run, breaks the line at a run that measured nothing, and the objectives as dashed lines', () => {
    const lines = [
      run('2026-11-28T03:00:00Z', 12_000, 600),
      run('2026-11-29T03:00:00Z', 14_000, 700),
      run('2026-11-30T03:00:00Z', null, null, 'aborted'),
      run('2026-12-01T03:00:00Z', 13_000, 650),
      run('2026-12-01T04:00:00Z', 90_000, 800, 'deviated'),
    ];
    const svg = rtoRpoChart('corrupt-zeroia-state', lines, { rto_ms: 180_000, rpo_ms: 3_600_000 });
    expect(wellFormed(svg)).toBe(true);
    expect(svg.match(/data-series="rto"/g)).toHaveLength(4);
    expect(svg.match(/data-series="rpo"/g)).toHaveLength(4);
    expect(svg.match(/<polyline /g)).toHaveLength(4); // two segments per series: the aborted run breaks them
    expect(svg).toMatch(/data-objective="rto"/);
    expect(svg).toMatch(/data-objective="rpo"/);
    expect(svg).toContain('RTO (goal 3 min)');
    expect(svg).toContain('RPO (goal 1 h)');
    expect(svg).toContain('2026-12-01T04:00:00Z RTO 90 s (deviated)');
    expect(svg).not.toMatch(/<script|href=/); // standalone: nothing to load or run
  });

  it('is still a chart with no run yet or a single one, and escapes what it prints', () => {
    expect(wellFormed(rtoRpoChart('a<b & "c"', [], { rto_ms: null, rpo_ms: null }))).toBe(true);
    const one = rtoRpoChart('a<b & "c"', [run('2026-12-01T03:00:00Z', 5_000, null)], { rto_ms: 60_000, rpo_ms: null });
    expect(wellFormed(one)).toBe(true);
    expect(one).toContain('a&lt;b &amp; &quot;c&quot;');
    expect(one.match(/data-series="rto"/g)).toHaveLength(1);
    expect(one).not.toMatch(/data-series="rpo"/);
  });
});
