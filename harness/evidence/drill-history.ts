import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Journal } from '../journal.ts';

// RTO/RPO over time, one line per drill run (reports/history/drills.jsonl, kept between
// runs like Allure's own history), so a slow drift of recovery time is visible.

export interface HistoryLine {
  at: string;
  scenario: string;
  status: Journal['status'];
  rto_ms: number | null;
  rpo_ms: number | null;
}

export async function recordDrillHistory(file: string, journal: Journal): Promise<HistoryLine[]> {
  const line: HistoryLine = {
    at: journal.ended_at,
    scenario: journal.scenario,
    status: journal.status,
    rto_ms: journal.measurements.rto_ms,
    rpo_ms: journal.measurements.rpo_ms,
  };
  await mkdir(dirname(file), { recursive: true });
  await appendFile(file, `${JSON.stringify(line)}\n`);
  const text = await readFile(file, 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as HistoryLine];
      } catch {
        return [];
      }
    })
    .filter((l) => l.scenario === journal.scenario);
}

/** Pure: the last runs of one scenario as a Markdown table. */
export function historyTable(lines: readonly HistoryLine[], last = 20): string {
  const rows = lines.slice(-last).map((l) => `| ${l.at} | ${l.status} | ${l.rto_ms ?? '—'} | ${l.rpo_ms ?? '—'} |`);
  return ['| run | status | RTO ms | RPO ms |', '|---|---|---|---|', ...rows].join('\n');
}
