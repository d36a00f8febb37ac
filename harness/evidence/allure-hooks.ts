import * as allure from 'allure-js-commons';
import type { DrillHooks } from '../drill-hooks.ts';
import { parseDuration } from '../../lib/policy/index.ts';
import type { Journal } from '../journal.ts';
import type { Scenario } from '../scenario/index.ts';
import type { HistoryLine } from './drill-history.ts';
import { rtoRpoChart } from './rto-rpo-chart.ts';

/** Drill phases as Allure steps, outputs as attachments. */
export const allureHooks: DrillHooks = {
  step: (name, body) => Promise.resolve(allure.step(name, body)),
  attach: async (name, content, contentType) => {
    await allure.attachment(name, content, contentType);
  },
};

/** Labels that let the report group drills: epic = area tag, feature = recovery script. */
export async function labelScenario(scenario: Scenario): Promise<void> {
  const schedule = new Set(['daily', 'weekly', 'monthly']);
  const area = scenario.tags.find((t) => !schedule.has(t)) ?? 'recovery';
  await allure.epic(area);
  await allure.feature(scenario.recovery.script);
  await allure.story(scenario.id);
  await allure.severity(scenario.severity);
  await allure.tags(...scenario.tags);
  await allure.description(`${scenario.title}\n\nScenario file: scenarios/${scenario.id}.toml`);
}

/**
 * A drill's RTO and RPO beside their objectives, on the test itself (parameters, left out of
 * Allure's history id so that every run stays one test), and its chart over the kept runs.
 */
export async function reportMeasurements(journal: Journal, history: readonly HistoryLine[]): Promise<void> {
  const m = journal.measurements;
  const shown = (ms: number | null, met: boolean | null, goal: string) =>
    ms === null
      ? `not measured (objective ${goal})`
      : `${(ms / 1000).toFixed(1)} s (objective ${goal}: ${met ? 'met' : 'NOT met'})`;
  await allure.parameter('RTO', shown(m.rto_ms, m.rto_met, journal.objectives.rto), { excluded: true });
  await allure.parameter('RPO', shown(m.rpo_ms, m.rpo_met, journal.objectives.rpo), { excluded: true });
  await allure.parameter('RPO basis', m.rpo_basis ?? 'none', { excluded: true });
  await allure.attachment('RTO/RPO over runs', chartOf(journal, history), 'image/svg+xml');
}

/** The chart of one scenario's runs, with the journal's objectives. */
export function chartOf(journal: Journal, history: readonly HistoryLine[]): string {
  const ms = (iso: string) => {
    try {
      return parseDuration(iso);
    } catch {
      return null;
    }
  };
  return rtoRpoChart(journal.scenario, history, {
    rto_ms: ms(journal.objectives.rto),
    rpo_ms: ms(journal.objectives.rpo),
  });
}
