import { relative, sep } from 'node:path';
import { REPO_ROOT } from '../../lib/testing.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';

/** The tree each drill copies: ARK_DRILL_ROOT (set by `npm run drill -- --root-from DIR`), else the sample root. */
export function drillRootSource(env: NodeJS.ProcessEnv = process.env): string {
  return env.ARK_DRILL_ROOT || SAMPLE_ROOT;
}

/** How journals and evidence name a drill's source: relative when inside the checkout (the sample), else absolute. */
export function describeRootSource(source: string, repoRoot = REPO_ROOT): string {
  const rel = relative(repoRoot, source);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep)
    ? rel.split(sep).join('/')
    : source;
}
