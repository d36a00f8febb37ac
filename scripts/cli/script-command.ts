import { createRequire } from 'node:module';
import { join } from 'node:path';
import { distEntry } from '../../bin/dist-entry.mjs';

// How a test or a drill starts an operator script as a subprocess, by bin/ark.mjs's rule: the
// bundle `npm run build` made (dist/<script>.mjs, the script itself compiled, what `ark`
// runs) while dist/ was built from the sources as they are now, else the TypeScript sources
// through tsx. The bundle starts in a third of the time (0.25 s against 0.85 s here), and a
// test suite starts scripts some thousand times. ARK_FROM_SOURCES=1 always runs the sources.

/** tsx's loader, by absolute path: a script also starts with a cwd outside the install. */
export const TSX = createRequire(import.meta.url).resolve('tsx');

export interface ScriptCommand {
  /** Node's arguments before the script's own (its entry file last). */
  args: string[];
  /** What runs: `dist/<script>.mjs` or `scripts/<script>.mts`, relative to the install. */
  runs: string;
}

/**
 * Node arguments that run scripts/<script>.mts of the install at `installDir`: its bundle, or
 * (stale or no dist/, or `fromSources`) the source through `tsx` (this install's by default).
 */
export function scriptCommand(
  installDir: string,
  script: string,
  { fromSources = Boolean(process.env.ARK_FROM_SOURCES), tsx = TSX }: { fromSources?: boolean; tsx?: string } = {},
): ScriptCommand {
  const dist = fromSources ? null : distEntry(installDir, script);
  if (dist && 'entry' in dist) return { args: [dist.entry], runs: join('dist', `${script}.mjs`) };
  const source = join('scripts', `${script}.mts`);
  return { args: ['--import', tsx, join(installDir, source)], runs: source };
}
