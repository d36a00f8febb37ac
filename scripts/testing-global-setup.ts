// vitest globalSetup of both projects: the tests and drills start operator scripts from their
// bundle while dist/ is fresh (scripts/cli/script-command.ts), so dist/ is rebuilt first when
// a source changed since the last `npm run build` (some seconds; `npm ci` built it). With
// ARK_FROM_SOURCES=1 every script runs from its sources and nothing is built.
import { distEntry } from '../bin/dist-entry.mjs';
import { REPO_ROOT } from '../lib/testing.ts';
import { buildDist } from './cli/build-dist.ts';

export default async function setup(): Promise<void> {
  if (process.env.ARK_FROM_SOURCES) return;
  if ('entry' in distEntry(REPO_ROOT, 'ark')) return;
  await buildDist(REPO_ROOT);
}
