import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

// The drill report as an auditor opens it: each drill's page rendered by a real browser
// (Debian's chromium, headless), checked for what it must show — the drill, its RTO and RPO
// against their objectives, the RTO/RPO chart — and for what it must not: auto-captured
// expect() steps. Allure's report is a script-built page: only a browser shows what it says.

const run = promisify(execFile);

export interface ReportCheck {
  test: string;
  problems: string[];
}

interface SuiteNode {
  uid: string;
  name: string;
  children?: SuiteNode[];
}

/** Each test's page in the generated report (reportDir/index.html#suites/...): what is wrong with it. */
export async function checkReportInBrowser(
  reportDir: string,
  options: { chromium?: string; limit?: number } = {},
): Promise<ReportCheck[]> {
  const dir = resolve(reportDir);
  const suites = JSON.parse(await readFile(join(dir, 'data', 'suites.json'), 'utf8')) as SuiteNode;
  const tests: { path: string[]; uid: string; name: string }[] = [];
  const walk = (node: SuiteNode, path: string[]) => {
    for (const child of node.children ?? [])
      if (child.children) walk(child, [...path, child.uid]);
      else tests.push({ path, uid: child.uid, name: child.name });
  };
  walk(suites, []);
  if (tests.length === 0) return [{ test: '(none)', problems: [`${dir} lists no test`] }];
  const checks: ReportCheck[] = [];
  for (const test of tests.slice(0, options.limit ?? tests.length)) {
    const url = `${pathToFileURL(join(dir, 'index.html')).href}#suites/${[...test.path, test.uid].join('/')}/`;
    const text = visibleText(await renderedDom(url, options.chromium ?? 'chromium'));
    const problems: string[] = [];
    if (!text.includes(test.name)) problems.push('the page does not show the drill (the report did not render)');
    // Allure shows a parameter as "RTO : 12.9 s (objective PT3M: met)".
    if (!/\bRTO :? ?([\d.]+ s|not measured) \(objective \S+?(: (met|NOT met))?\)/.test(text))
      problems.push('no RTO beside its objective');
    if (!/\bRPO :? ?([\d.]+ s|not measured) \(objective \S+?(: (met|NOT met))?\)/.test(text))
      problems.push('no RPO beside its objective');
    if (!text.includes('RTO/RPO over runs')) problems.push('no RTO/RPO chart');
    if (/\bexpect\(/.test(text)) problems.push('auto-captured expect() steps');
    checks.push({ test: test.name, problems });
  }
  return checks;
}

async function renderedDom(url: string, chromium: string): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'ark-chromium-'));
  try {
    const { stdout } = await run(
      chromium,
      [
        '--headless',
        '--no-sandbox', // as root in CI; the page is our own report
        '--disable-gpu',
        `--user-data-dir=${profile}`,
        '--allow-file-access-from-files', // the report loads its data/*.json from beside it
        '--virtual-time-budget=20000',
        '--dump-dom',
        url,
      ],
      { timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

function visibleText(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ');
}
