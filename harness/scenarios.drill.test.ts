import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as allure from 'allure-js-commons';
import { isDeepStrictEqual } from 'node:util';
import { describe, it } from 'vitest';
import { allureHooks, historyTable, labelScenario, recordDrillHistory, reportMeasurements } from './evidence/index.ts';
import { drillRootSource } from './drill-root/index.ts';
import { journalSchema } from './journal.ts';
import { reportsDir } from './reports-dir.ts';
import { runScenario } from './run-scenario.ts';
import { loadScenarios } from './scenario/index.ts';
import { drillImagesFromEnv } from './drill-images.ts';

// Every scenario file is one drill (or those named in ARK_DRILL_SCENARIOS by `npm run drill`),
// each on a fresh copy of the sample root (or of ARK_DRILL_ROOT: `npm run drill -- --root-from DIR`).
const selection = (process.env.ARK_DRILL_SCENARIOS ?? '').split(',').filter(Boolean);
const scenarios = await loadScenarios(selection);
const rootFrom = drillRootSource();
const images = drillImagesFromEnv();
const reports = reportsDir();

/**
 * A drill whose recovery did not work: an assertion failure for Allure ("failed", a product
 * failure), not an error ("broken", the harness); allure-js tells them apart by the name.
 */
class DrillAssertionError extends Error {
  override name = 'DrillAssertionError';
}

describe('recovery drills', () => {
  for (const scenario of scenarios) {
    it(scenario.id, async () => {
      await labelScenario(scenario);
      const journal = await runScenario(scenario, { hooks: allureHooks, rootFrom, images });
      const json = JSON.stringify(journal, null, 2);
      await allure.attachment('journal.json', json, 'application/json');
      const dir = join(reports, 'journals');
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `${scenario.id}.json`), `${json}\n`);
      const history = await recordDrillHistory(join(reports, 'history', 'drills.jsonl'), journal);
      await reportMeasurements(journal, history);
      await allure.attachment('RTO/RPO history', historyTable(history), 'text/markdown');
      // Checked without expect(): allure-vitest would show each as a step comparing the journal with itself.
      const parsed = journalSchema.safeParse(journal); // the journal has exactly the pinned shape
      if (!parsed.success || !isDeepStrictEqual(parsed.data, journal))
        throw new Error(`the journal does not have its pinned shape: ${parsed.error?.message ?? 'fields differ'}`);
      // Aborted = the harness or the infrastructure failed, not the product: Allure shows it as "broken".
      if (journal.status === 'aborted') throw new Error(`harness/infrastructure failure: ${journal.error}`);
      if (journal.status !== 'completed')
        throw new DrillAssertionError(`drill ${journal.status}${journal.error ? `: ${journal.error}` : ''}`);
    });
  }
});
