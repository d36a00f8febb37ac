// `npm run drill [-- <scenario-id or file>...] [--tag TAG]... [--root-from DIR] [--reports DIR]`:
// validate the scenarios and the drill root (an invalid file or a tree that is not an Arkalia
// root is rejected by name and reason before any container starts), run them as vitest drills
// with Allure, sign evidence of the drills that ran, then generate the HTML report.
// Exit: 0 all passed, 1 a drill failed or none ran, 2 usage.
import { spawnSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { toArkError, UsageError } from '../lib/errors.ts';
import { REPO_ROOT } from '../lib/testing.ts';
import { environmentFacts, keepAllureHistory, prepareAllureResults, writeEvidence } from './evidence/index.ts';
import { checkArkaliaRoot, describeRootSource, drillRootSource } from './drill-root/index.ts';
import { MetricsUpdate, updateMetricsFile } from '../lib/metrics/index.ts';
import { journalSchema, type Journal } from './journal.ts';
import { reportsDir } from './reports-dir.ts';
import { drillImagesToEnv, parseDrillImages } from './drill-images.ts';
import { loadScenarios, selectByTags, type Scenario } from './scenario/index.ts';

const HELP = `Usage: npm run drill [-- <scenario-id | path/to/scenario.toml> ...] [--tag TAG ...]
                       [--root-from DIR] [--reports DIR] [--image SERVICE=IMAGE ...]

Runs the recovery drills in scenarios/ against the containerised Arkalia stand-in stack
(scenarios with stack = false run the scripts without containers). All by default; ids or
files name some; --tag TAG selects those tagged TAG (a schedule: daily, weekly, monthly, or
an area: state, backup, offsite, ...); several --tag and ids select their union.

Each drill works on a fresh copy of an Arkalia root: the sample shipped in
sample/arkalia-luna-pro, or --root-from DIR (env ARK_DRILL_ROOT), your own installation's
tree, which is only read (its .env stays 0600 in the copy and never reaches the reports).
Scenarios with stack = "compose" run that root's docker-compose.yml with Docker Compose:
each service runs its own image when this host has it, else the realistic stand-in;
--image SERVICE=IMAGE (repeatable) runs IMAGE for SERVICE.

Writes reports/allure-results, reports/allure-report/index.html and signed audit evidence in
reports/evidence/<run-id>/ (--reports DIR, env ARK_REPORTS_DIR, to write them elsewhere;
evidence key: ARK_EVIDENCE_KEY, an armored private key file, passphrase in
ARK_EVIDENCE_PASSPHRASE; without it a one-off key is made). No evidence is signed when no
drill ran to the end.
Requires a Docker engine. Exit codes: 0 all drills passed, 1 a drill failed or none ran,
2 usage (unknown scenario or tag, invalid scenario file, --root-from not an Arkalia root).`;

const bin = (name: string) => join(REPO_ROOT, 'node_modules', '.bin', name);

async function main(): Promise<number> {
  const { values, positionals } = parseDrillArgs(process.argv.slice(2));
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const scenarios = await selectScenarios(positionals, values.tag ?? []);
  if (scenarios.length === 0) throw new UsageError('no scenario selected: nothing to drill (npm run drill -- --help)');
  // The drill root, checked before any container starts: the sample, or the operator's tree.
  const rootFlag = values['root-from'] !== undefined ? '--root-from' : 'ARK_DRILL_ROOT';
  if (values['root-from'] === '')
    throw new UsageError('--root-from needs a folder: your Arkalia root (e.g. /srv/arkalia-luna-pro)');
  const source = values['root-from'] ?? drillRootSource();
  const root = await checkArkaliaRoot(resolve(source), rootFlag);
  const reports = values.reports !== undefined ? resolve(values.reports) : reportsDir();
  const images = parseDrillImages(values.image ?? []);
  await assertImagesPresent(images);
  const skipped = root.skipped.length > 0 ? `; not copied: ${root.skipped.join(', ')}` : '';
  process.stderr.write(`▶ ${scenarios.length} drill(s): ${scenarios.map((s) => s.id).join(', ')}\n`);
  process.stderr.write(
    `▶ each on a fresh copy of ${describeRootSource(root.root)} (${root.files} files, ${(root.bytes / 1024 / 1024).toFixed(1)} MiB; only read)${skipped}\n`,
  );

  const startedAt = new Date();
  const runId = `${startedAt.toISOString().replace(/[-:]/g, '').slice(0, 15)}-${process.pid}`;
  await rm(join(reports, 'allure-results'), { recursive: true, force: true });
  await prepareAllureResults(
    join(reports, 'allure-results'),
    join(reports, 'history', 'allure'),
    await environmentFacts(REPO_ROOT),
  );
  const vitest = spawnSync(bin('vitest'), ['run', '--project', 'drills', 'harness/scenarios.drill.test.ts'], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      ARK_DRILL_SCENARIOS: scenarios.map((s) => s.file).join(','),
      ARK_DRILL_ROOT: root.root,
      ARK_REPORTS_DIR: reports,
      ARK_DRILL_IMAGES: drillImagesToEnv(images),
    },
  });

  // Signed audit evidence from this run's journals (a scenario with no journal did not run to the end).
  const journals: Journal[] = [];
  for (const scenario of scenarios) {
    const journal = await readFile(join(reports, 'journals', `${scenario.id}.json`), 'utf8').then(
      (t) => journalSchema.parse(JSON.parse(t)),
      () => null,
    );
    if (journal && new Date(journal.started_at) >= startedAt) journals.push(journal);
    else process.stderr.write(`✗ ${scenario.id}: no journal from this run (the drill did not finish)\n`);
  }
  await writeDrillMetrics(
    scenarios.map((s) => s.id),
    journals,
  );
  if (journals.length === 0) {
    process.stderr.write(
      `✗ none of the ${scenarios.length} selected drill(s) ran to the end (vitest exited ${vitest.status ?? vitest.signal}; its output is above): no evidence signed\n`,
    );
    return 1;
  }
  const evidence = await writeEvidence({
    reportsDir: reports,
    repoRoot: REPO_ROOT,
    runId,
    journals,
    selected: scenarios.map((s) => s.id),
  });
  const { summary } = evidence.evidence;
  process.stderr.write(
    `${summary.passed ? '✓' : '✗'} ${summary.completed} of ${summary.selected} drill(s) passed${summary.not_run.length > 0 ? `, ${summary.not_run.length} did not run to the end` : ''}\n`,
  );
  process.stderr.write(
    `✓ evidence: ${evidence.dir} (signed by ${evidence.fingerprint}${evidence.oneOffKey ? ', a one-off key made for this run: set ARK_EVIDENCE_KEY to sign with your own' : ''})\n`,
  );

  // The HTML report: allure-commandline needs Java. Without it the drills' results stand (the
  // raw results and the signed evidence are written): said plainly, not counted as a failure.
  let reportOk = true;
  if (!javaAvailable()) {
    process.stderr.write(
      `⚠ HTML report not generated: allure-commandline needs Java (a JRE >= 8, e.g. apt-get install default-jre-headless); the raw results are in ${join(reports, 'allure-results')}\n`,
    );
  } else {
    const allure = spawnSync(
      bin('allure'),
      ['generate', join(reports, 'allure-results'), '-o', join(reports, 'allure-report'), '--clean'],
      { cwd: REPO_ROOT, stdio: 'inherit' },
    );
    reportOk = allure.status === 0;
    if (reportOk) {
      await keepAllureHistory(join(reports, 'allure-report'), join(reports, 'history', 'allure'));
      process.stderr.write(`✓ report: ${join(reports, 'allure-report', 'index.html')}\n`);
    } else
      process.stderr.write(
        `✗ allure-commandline could not generate the HTML report (exit ${allure.status ?? allure.signal}); the raw results are in ${join(reports, 'allure-results')}\n`,
      );
  }
  const allRan = journals.length === scenarios.length;
  return vitest.status === 0 && allRan && reportOk ? 0 : 1;
}

/** --image names images on this host (nothing can be pulled in a drill): exit 2 for one that is not. */
async function assertImagesPresent(images: Readonly<Record<string, string>>): Promise<void> {
  if (Object.keys(images).length === 0) return;
  const { default: Dockerode } = await import('dockerode');
  const docker = new Dockerode();
  for (const [service, image] of Object.entries(images)) {
    const here = await docker
      .getImage(image)
      .inspect()
      .then(
        () => true,
        () => false,
      );
    if (!here)
      throw new UsageError(
        `--image ${service}=${image}: no such image on this host (drills never pull: build or load it first)`,
      );
  }
}

/** Whether allure-commandline can start: Java from JAVA_HOME, else on PATH (as its launcher looks). */
function javaAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  const java = env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : 'java';
  return spawnSync(java, ['-version'], { stdio: 'ignore', env }).status === 0;
}

function parseDrillArgs(args: string[]) {
  try {
    return parseArgs({
      args,
      options: {
        help: { type: 'boolean', short: 'h' },
        tag: { type: 'string', multiple: true },
        'root-from': { type: 'string' },
        reports: { type: 'string' },
        image: { type: 'string', multiple: true },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (npm run drill -- --help)`, { cause: error });
  }
}

/** Ids/paths and --tag selections, united (each scenario once, ids first); nothing given: all. */
async function selectScenarios(ids: string[], tags: string[]): Promise<Scenario[]> {
  if (tags.length === 0) return loadScenarios(ids);
  const tagged = selectByTags(await loadScenarios(), tags);
  const named = ids.length > 0 ? await loadScenarios(ids) : [];
  const seen = new Set(named.map((s) => s.file));
  return [...named, ...tagged.filter((s) => !seen.has(s.file))];
}

/** ARK_METRICS_FILE: each drill's last result for the DrillFailing / DrillOverdue alerts (a drill with no journal failed). */
async function writeDrillMetrics(ids: readonly string[], journals: readonly Journal[]): Promise<void> {
  const file = process.env.ARK_METRICS_FILE;
  if (!file) return;
  const update = new MetricsUpdate();
  const now = Math.floor(Date.now() / 1000);
  for (const id of ids) {
    const journal = journals.find((j) => j.scenario === id);
    update.set('drillSuccess', { scenario: id }, journal?.status === 'completed' ? 1 : 0);
    update.set('drillLastRun', { scenario: id }, journal ? Math.floor(Date.parse(journal.ended_at) / 1000) : now);
  }
  try {
    await updateMetricsFile({ file, update });
    process.stderr.write(`✓ drill metrics written to ${file}\n`);
  } catch (error) {
    process.stderr.write(`⚠ drill metrics not written to ${file}: ${(error as Error).message}\n`);
  }
}

try {
  process.exitCode = await main();
} catch (thrown) {
  const error = toArkError(thrown);
  process.stderr.write(`✗ ${error.message}\n`);
  process.exitCode = error.code === 'UNEXPECTED' ? 1 : error.exitCode;
}
