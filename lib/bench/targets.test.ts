import { describe, expect, it } from 'vitest';
import type { Measurement } from './measure-command.ts';
import { summarize } from './summarize.ts';
import { type TargetFacts, targetLines } from './targets.ts';

const m = (wallMs: number, code = 0): Measurement => ({
  wallMs,
  cpuMs: wallMs,
  maxRssBytes: 100 * 1024 * 1024,
  rssSource: 'time',
  code,
  stderr: '',
});
const row = (phase: string, tool: string, baseline: boolean, walls: number[], failedAt = -1) => ({
  phase,
  tool,
  baseline,
  runs: walls.map((w, i) => m(w, i === failedAt ? 1 : 0)),
  outputBytes: null,
});
const facts = (rows: ReturnType<typeof row>[], over: Partial<TargetFacts> = {}): TargetFacts => ({
  rows: summarize(rows),
  phases: new Set(['restore', 'recover', 'module']),
  encryptAll: false,
  pointsSpace: null,
  gnuReadable: 'yes',
  recoveredSame: 'yes',
  moduleSame: 'yes',
  ...over,
});
const line = (lines: string[], start: string) => lines.map((l) => l.trim()).find((l) => l.startsWith(start)) ?? '';

describe('bench targets (issue 17)', () => {
  it('restore against restic, recovery ≤ 1.5× with no run over 3×, one module ≤ 2×', () => {
    const lines = targetLines(
      facts([
        row('restore', 'runbook: sha256sum -c + tar -xzf', true, [9000, 9000, 9000]),
        row('restore', 'arkalia-dr: verify + safe extract', false, [10_000, 11_000, 10_500]),
        row('restore', 'restic restore', false, [7000, 7000, 7000]),
        row('recover', 'runbook: sha256sum -c + tar -xzf (states, infra)', true, [1000, 1000, 1000]),
        row('recover', 'arkalia-dr disaster-recovery --services none', false, [1400, 1400, 3200]),
        row('module', 'runbook: sha256sum -c + tar -xzf modules/m/state/', true, [300, 300, 300]),
        row('module', 'arkalia-dr emergency-restore m --services none', false, [550, 590, 600]),
      ]),
    );
    expect(line(lines, 'restore of every archive')).toMatch(/10\.50 s, 1\.50× restic — NOT met$/);
    // The median (1.4×) is within 1.5×, but one run took 3.2×: not met.
    expect(line(lines, 'full-system recovery')).toMatch(/1\.40× \(per run 1\.40–1\.40–3\.20×\) — NOT met$/);
    expect(line(lines, 'one-module restore')).toMatch(/1\.97× .* — met$/);
    expect(line(lines, 'recovered root identical')).toMatch(/yes$/);
  });

  it('met when every figure is within its target; a failed run is never met; phases not run are said', () => {
    const ok = targetLines(
      facts([
        row('restore', 'arkalia-dr: verify + safe extract', false, [6000, 6000, 6000]),
        row('restore', 'restic restore', true, [7000, 7000, 7000]),
        row('recover', 'runbook', true, [1000, 1000, 1000]),
        row('recover', 'arkalia-dr disaster-recovery', false, [1200, 1300, 1400]),
      ]),
    );
    expect(line(ok, 'restore of every archive')).toMatch(/— met$/);
    expect(line(ok, 'full-system recovery')).toMatch(/— met$/);
    expect(line(ok, 'one-module restore')).toBe('one-module restore: not measured');

    const failed = targetLines(
      facts([
        row('recover', 'runbook', true, [1000, 1000, 1000]),
        row('recover', 'arkalia-dr disaster-recovery', false, [1200, 1300, 1400], 2),
      ]),
    );
    expect(line(failed, 'full-system recovery')).toMatch(/NOT met \(1 run\(s\) failed\)$/);
    expect(line(failed, 'restore of every archive')).toMatch(/not measured/);

    const none = targetLines(facts([], { phases: new Set(['backup']) }));
    expect(none.some((l) => l.includes('full-system recovery'))).toBe(false);
    expect(line(none, 'full-backup')).toBe('full-backup: not measured');
    expect(line(none, 'peak RSS')).toMatch(/nothing measured — NOT met$/);
  });
});
