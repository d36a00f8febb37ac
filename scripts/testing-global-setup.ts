// vitest globalSetup of both projects: the tests and drills start operator scripts from their
// bundle while dist/ is fresh (scripts/cli/script-command.ts), so dist/ is rebuilt first when
// a source changed since the last `npm run build` (some seconds; `npm ci` built it). With
// ARK_FROM_SOURCES=1 every script runs from its sources and nothing is built.
import { REPO_ROOT } from '../lib/testing.ts';
import { ensureDist } from './cli/build-dist.ts';

export default async function setup(): Promise<void> {
  if (process.env.ARK_FROM_SOURCES) return;
  try {
    await ensureDist(REPO_ROOT);
  } catch (error) {
    // A checkout that cannot be written (or a build that fails): the sources run, only slower.
    process.stderr.write(
      `⚠ could not rebuild dist/ (${(error as Error).message}): the scripts run from their sources\n`,
    );
  }
}
