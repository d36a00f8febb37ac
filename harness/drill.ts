// `npm run drill [-- <scenario-id or file>...]`: validate the scenarios (an invalid file is
// rejected by name and reason before any container starts), run them as vitest drills with
// Allure, then generate the HTML report. Exit: 0 all passed, 1 a drill failed, 2 usage.
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toArkError } from '../lib/errors.ts';
import { REPO_ROOT } from '../lib/testing.ts';
import { environmentFacts, keepAllureHistory, prepareAllureResults } from './evidence/allure-extras.ts';
import { loadScenarios } from './scenario/index.ts';

const HELP = `Usage: npm run drill [-- <scenario-id | path/to/scenario.toml> ...]

Runs the recovery drills in scenarios/ (all by default) against the containerised Arkalia
stand-in stack and writes reports/allure-results and reports/allure-report/index.html.
Requires a Docker engine. Exit codes: 0 all drills passed, 1 a drill failed, 2 usage
(unknown scenario, invalid scenario file).`;

const reports = join(REPO_ROOT, 'reports');
const bin = (name: string) => join(REPO_ROOT, 'node_modules', '.bin', name);

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const scenarios = await loadScenarios(positionals);
  process.stderr.write(`▶ ${scenarios.length} drill(s): ${scenarios.map((s) => s.id).join(', ')}\n`);

  await rm(join(reports, 'allure-results'), { recursive: true, force: true });
  await prepareAllureResults(join(reports, 'allure-results'), join(reports, 'history', 'allure'), await environmentFacts(REPO_ROOT));
  const vitest = spawnSync(bin('vitest'), ['run', '--project', 'drills', 'harness/scenarios.drill.test.ts'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...process.env, ARK_DRILL_SCENARIOS: scenarios.map((s) => s.file).join(',') },
  });

  const allure = spawnSync(bin('allure'), ['generate', join(reports, 'allure-results'), '-o', join(reports, 'allure-report'), '--clean'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (allure.status === 0) {
    await keepAllureHistory(join(reports, 'allure-report'), join(reports, 'history', 'allure'));
    process.stderr.write(`✓ report: ${join(reports, 'allure-report', 'index.html')}\n`);
  }
  else process.stderr.write('✗ allure-commandline could not generate the HTML report (it needs Java 8+ on PATH); the raw results are in reports/allure-results\n');
  return vitest.status === 0 ? (allure.status === 0 ? 0 : 1) : 1;
}

try {
  process.exitCode = await main();
} catch (thrown) {
  const error = toArkError(thrown);
  process.stderr.write(`✗ ${error.message}\n`);
  process.exitCode = error.code === 'UNEXPECTED' ? 1 : error.exitCode;
}
