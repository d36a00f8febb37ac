import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Journal } from '../journal.ts';
import { buildEvidence, type Evidence } from './build-evidence.ts';
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
 * evidence.json.asc, and the signer's public key signer.pub.asc beside them.
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
  await writeFile(join(dir, 'evidence.md'), renderEvidenceMarkdown(evidence));
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
