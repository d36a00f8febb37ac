import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as allure from 'allure-js-commons';
import { describe, expect, it } from 'vitest';
import { allureHooks, historyTable, labelScenario, recordDrillHistory } from './evidence/index.ts';
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
      await allure.attachment('RTO/RPO history', historyTable(history), 'text/markdown');
      expect(journalSchema.parse(journal)).toEqual(journal); // the journal has exactly the pinned shape
      // Aborted = the harness or the infrastructure failed, not the product: Allure shows it as "broken".
      if (journal.status === 'aborted') throw new Error(`harness/infrastructure failure: ${journal.error}`);
      expect(journal.status, `${journal.error ?? ''}`).toBe('completed');
    });
  }
});
