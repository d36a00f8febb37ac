import * as allure from 'allure-js-commons';
import type { DrillHooks } from '../drill-hooks.ts';
import type { Scenario } from '../scenario/index.ts';

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
