import { join } from 'node:path';
import { reportsDir } from './reports-dir.ts';
import { checkReportInBrowser } from './report/index.ts';

// npm run check-report [-- REPORT_DIR]: open each drill's page of the generated Allure report
// in headless chromium and check it shows the drill, RTO and RPO against their objectives and
// the RTO/RPO chart, and no auto-captured expect() steps. Exit 0 all good, 1 a page lacks
// something, 2 no report or no browser.

const dir = process.argv[2] ?? join(reportsDir(), 'allure-report');
try {
  const checks = await checkReportInBrowser(dir);
  for (const c of checks)
    process.stdout.write(
      `${c.problems.length === 0 ? '✓' : '✗'} ${c.test}${c.problems.length ? `: ${c.problems.join('; ')}` : ''}\n`,
    );
  const bad = checks.filter((c) => c.problems.length > 0).length;
  process.stdout.write(`${checks.length - bad} of ${checks.length} drill page(s) in ${dir} show what they must\n`);
  process.exitCode = bad > 0 ? 1 : 0;
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  process.stderr.write(
    `✗ cannot check ${dir}: ${e.code === 'ENOENT' ? `${e.path ?? dir} is missing (run npm run drill first; chromium: apt-get install chromium)` : e.message}\n`,
  );
  process.exitCode = 2;
}
