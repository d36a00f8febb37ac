import { readFile } from 'node:fs/promises';
import { folderScores, foldersBelow } from './mutation/index.ts';

// npm run mutation runs Stryker (stryker.config.mjs), then this: the mutation score of each
// mutated folder, from its JSON report, and exit 1 when a folder is under MINIMUM percent.
// `-- --files` lists each file too. Exit 0 all folders at or above it, 1 one under, 2 no report.

const MINIMUM = 85;
const REPORT = 'reports/mutation/mutation.json';

const pct = (n: number) => (Number.isNaN(n) ? '  n/a' : `${n.toFixed(1).padStart(5)}%`);
try {
  const scores = folderScores(JSON.parse(await readFile(REPORT, 'utf8')));
  const showFiles = process.argv.includes('--files');
  for (const s of scores) {
    process.stdout.write(
      `${s.score >= MINIMUM ? '✓' : '✗'} ${s.folder.padEnd(16)} ${pct(s.score)}  ${s.detected} detected, ${s.survived} survived, ${s.noCoverage} not covered${s.ignored ? `, ${s.ignored} ignored (static)` : ''}\n`,
    );
    if (showFiles)
      for (const f of s.files)
        process.stdout.write(`    ${f.file.padEnd(40)} ${pct(f.score)}  ${f.undetected} undetected\n`);
  }
  const below = foldersBelow(scores, MINIMUM);
  process.stdout.write(
    below.length === 0
      ? `every folder's mutation score is at least ${MINIMUM}% (report: reports/mutation/index.html)\n`
      : `${below.map((s) => s.folder).join(', ')} under ${MINIMUM}%: see the surviving mutants in reports/mutation/index.html\n`,
  );
  process.exitCode = below.length === 0 ? 0 : 1;
} catch (error) {
  const e = error as NodeJS.ErrnoException;
  process.stderr.write(
    `✗ cannot read ${REPORT}: ${e.code === 'ENOENT' ? 'it is missing (run npm run mutation first)' : e.message}\n`,
  );
  process.exitCode = 2;
}
