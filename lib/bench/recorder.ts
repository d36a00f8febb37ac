import { mib, treeBytes } from './bench-files.ts';
import { measureCommand } from './measure-command.ts';
import type { RecordRun } from './points-phase.ts';
import type { ScenarioResult } from './summarize.ts';

// How the bench records its timed commands: each run of a (phase, tool) row added to that
// row, what it wrote measured, and a line for the person watching (through `say`).

export function createRecorder(say: (line: string) => void): { record: RecordRun; results: () => ScenarioResult[] } {
  const rows = new Map<string, ScenarioResult>();
  const record: RecordRun = async (phase, tool, baseline, spec, output, note) => {
    const key = `${phase}\0${tool}`;
    const entry = rows.get(key) ?? { phase, tool, baseline, runs: [], outputBytes: null, ...(note ? { note } : {}) };
    rows.set(key, entry);
    say(`  ${phase}: ${tool} …`);
    const m = await measureCommand(spec);
    entry.runs.push(m);
    if (output !== null) entry.outputBytes = await treeBytes(output);
    const rss = m.maxRssBytes ? `, peak RSS ${mib(m.maxRssBytes)}` : '';
    const failed =
      m.code === 0 ? '' : ` — FAILED (exit ${m.code}): ${m.stderr.trim().split('\n').slice(-3).join(' | ')}`;
    say(`    ${(m.wallMs / 1000).toFixed(2)} s${rss}${failed}`);
  };
  return { record, results: () => [...rows.values()] };
}
