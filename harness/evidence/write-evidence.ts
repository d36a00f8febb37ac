import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Journal } from '../journal.ts';
import { chartOf } from './allure-hooks.ts';
import { buildEvidence, type Evidence } from './build-evidence.ts';
import type { HistoryLine } from './drill-history.ts';
import { renderEvidenceMarkdown } from './render-evidence.ts';
import { evidenceSigner, signDetached } from './sign-evidence.ts';

const run = promisify(execFile);

export interface WrittenEvidence {
  dir: string;
  evidence: Evidence;
  fingerprint: string;
  oneOffKey: boolean;
}

/**
 * reports/evidence/<run-id>/: evidence.json, evidence.md, a detached signature
 * evidence.json.asc, the signer's public key signer.pub.asc, and charts/<scenario>.svg: each
 * drilled scenario's RTO and RPO over the kept history (reports/history/drills.jsonl), shown
 * in evidence.md. The charts are drawn from the history, not signed: evidence.json is the record.
 */
export async function writeEvidence(options: {
  reportsDir: string;
  repoRoot: string;
  runId: string;
  journals: readonly Journal[];
  selected?: readonly string[];
  env?: NodeJS.ProcessEnv;
  now?: Date;
}): Promise<WrittenEvidence> {
  const env = options.env ?? process.env;
  const git = async (args: string[]) =>
    (await run('git', args, { cwd: options.repoRoot }).catch(() => ({ stdout: '' }))).stdout.trim();
  const pkg = JSON.parse(await readFile(join(options.repoRoot, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  const evidence = buildEvidence(options.journals, {
    runId: options.runId,
    generatedAt: options.now ?? new Date(),
    operator: env.ARK_OPERATOR ?? env.GITHUB_ACTOR ?? env.GITLAB_USER_LOGIN ?? safeUser(),
    ci: env.CI ? (env.GITHUB_RUN_ID ? `github run ${env.GITHUB_RUN_ID}` : (env.CI_JOB_URL ?? 'CI')) : null,
    gitCommit: (await git(['rev-parse', 'HEAD'])) || 'unknown',
    gitDirty: (await git(['status', '--porcelain', '--untracked-files=no'])) !== '',
    host: hostname(),
    tool: { name: pkg.name, version: pkg.version, node: process.version },
    ...(options.selected ? { selected: options.selected } : {}),
  });
  const dir = join(options.reportsDir, 'evidence', options.runId);
  await mkdir(dir, { recursive: true });
  const json = Buffer.from(`${JSON.stringify(evidence, null, 2)}\n`);
  const signer = await evidenceSigner(env);
  await writeFile(join(dir, 'evidence.json'), json);
  const charts = await writeCharts(dir, options.journals, join(options.reportsDir, 'history', 'drills.jsonl'));
  await writeFile(join(dir, 'evidence.md'), `${renderEvidenceMarkdown(evidence)}${chartsSection(charts)}`);
  await writeFile(join(dir, 'evidence.json.asc'), await signDetached(json, signer));
  await writeFile(join(dir, 'signer.pub.asc'), signer.publicArmored);
  return { dir, evidence, fingerprint: signer.fingerprint, oneOffKey: signer.oneOff };
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** One chart per scenario of the run, from the kept history (this run included). */
async function writeCharts(dir: string, journals: readonly Journal[], historyFile: string): Promise<string[]> {
  const text = await readFile(historyFile, 'utf8').catch(() => '');
  const history = text.split('\n').flatMap((line) => {
    try {
      return line ? [JSON.parse(line) as HistoryLine] : [];
    } catch {
      return [];
    }
  });
  const written: string[] = [];
  await mkdir(join(dir, 'charts'), { recursive: true });
  for (const journal of journals) {
    let lines = history.filter((l) => l.scenario === journal.scenario);
    if (!lines.some((l) => l.at === journal.ended_at))
      lines = [
        ...lines,
        {
          at: journal.ended_at,
          scenario: journal.scenario,
          status: journal.status,
          rto_ms: journal.measurements.rto_ms,
          rpo_ms: journal.measurements.rpo_ms,
        },
      ];
    await writeFile(join(dir, 'charts', `${journal.scenario}.svg`), chartOf(journal, lines));
    written.push(journal.scenario);
  }
  return written;
}

function chartsSection(scenarios: readonly string[]): string {
  if (scenarios.length === 0) return '';
  return `\n## RTO and RPO over the kept runs\n\n${scenarios.map((s) => `![${s}: RTO and RPO per run](charts/${s}.svg)`).join('\n\n')}\n`;
}
