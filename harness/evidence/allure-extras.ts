import { execFile } from 'node:child_process';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { hostname, platform, release } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

// What Allure shows beside the tests: the environment of the run, categories that separate
// product failures (a recovery that did not work) from harness/infrastructure failures,
// and the history folder carried between runs so the report shows trends.

const run = promisify(execFile);

/** Product failures are assertion failures ("failed"); harness/infrastructure ones are errors ("broken"). */
export const ALLURE_CATEGORIES = [
  { name: 'Recovery did not work (product failure)', matchedStatuses: ['failed'], messageRegex: '.*' },
  { name: 'Harness or infrastructure failure', matchedStatuses: ['broken'], messageRegex: '.*' },
];

export async function environmentFacts(repoRoot: string): Promise<Record<string, string>> {
  const quiet = async (cmd: string, args: string[]) =>
    (await run(cmd, args, { cwd: repoRoot, timeout: 10_000 }).catch(() => ({ stdout: 'unknown' }))).stdout.trim();
  const pkg = JSON.parse(
    await import('node:fs/promises').then((fs) => fs.readFile(join(repoRoot, 'package.json'), 'utf8')),
  ) as { version: string };
  return {
    'arkalia-dr': pkg.version,
    'git.commit': await quiet('git', ['rev-parse', 'HEAD']),
    host: hostname(),
    os: `${platform()} ${release()}`,
    node: process.version,
    docker: await quiet('docker', ['version', '--format', '{{.Server.Version}}']),
    images: process.env.ARK_DRILL_IMAGES
      ? `${process.env.ARK_DRILL_IMAGES} (--image), the built-in stand-in for the others`
      : 'the built-in stand-in (built locally), where the host has no image of its own',
  };
}

/** Write categories.json, environment.properties and the previous run's history into the results folder. */
export async function prepareAllureResults(
  resultsDir: string,
  historyDir: string,
  facts: Record<string, string>,
): Promise<void> {
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, 'categories.json'), `${JSON.stringify(ALLURE_CATEGORIES, null, 2)}\n`);
  const properties = Object.entries(facts).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`);
  await writeFile(join(resultsDir, 'environment.properties'), `${properties.join('\n')}\n`);
  await cp(historyDir, join(resultsDir, 'history'), { recursive: true }).catch(() => {});
}

/** Keep the generated report's history for the next run (Allure's trend graphs read it). */
export async function keepAllureHistory(reportDir: string, historyDir: string): Promise<void> {
  await rm(historyDir, { recursive: true, force: true });
  await cp(join(reportDir, 'history'), historyDir, { recursive: true }).catch(() => {});
}
