import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureDist } from './build-dist.ts';
import { INSTALL_DIR } from './install-dir.ts';
import { runSideBySide } from './side-by-side.ts';

// `npm test`: the `unit` and `drills` vitest projects side by side, each one file at a time
// (vitest alone runs a project whose files go one at a time after all the others). A drill
// mostly waits on its containers, and the unit files use that time: on 2 cores the suite
// takes about the drills' time instead of the sum of both. Two drill files at once are not
// run: two Compose stacks and their healthchecks on 2 cores made healthy services time out.
// `npm test -- <vitest arguments>` (a file, --project, -t) is one plain `vitest run`.

const VITEST = join(INSTALL_DIR, 'node_modules', 'vitest', 'vitest.mjs');
const args = process.argv.slice(2);

if (args.length > 0) {
  const run = spawnSync(process.execPath, [VITEST, 'run', ...args], { stdio: 'inherit' });
  process.exitCode = run.status ?? 1;
} else {
  // Built once here: the two runs' global setups would otherwise both rebuild a stale dist/.
  if (!process.env.ARK_FROM_SOURCES) await ensureDist(INSTALL_DIR);
  const results = await runSideBySide(
    ['unit', 'drills'].map((project) => ({
      name: project,
      command: process.execPath,
      args: [VITEST, 'run', '--project', project],
    })),
  );
  process.stdout.write('\n');
  for (const r of results)
    process.stdout.write(
      `${r.code === 0 ? '✓' : '✗'} ${r.name}: ${r.code === 0 ? 'passed' : r.signal ? `killed (${r.signal})` : `failed (exit ${r.code})`} in ${Math.round(r.ms / 1000)} s\n`,
    );
  process.exitCode = results.every((r) => r.code === 0) ? 0 : 1;
}
