import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../lib/testing.ts';

/** Where drills write their reports: ARK_REPORTS_DIR (set by `npm run drill -- --reports DIR`), else reports/ in the checkout. */
export function reportsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.ARK_REPORTS_DIR ? resolve(env.ARK_REPORTS_DIR) : join(REPO_ROOT, 'reports');
}
