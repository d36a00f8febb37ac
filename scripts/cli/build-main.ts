import { relative } from 'node:path';
import { buildDist } from './build-dist.ts';
import { INSTALL_DIR } from './install-dir.ts';

// `npm run build` (npm's `prepare` runs it on `npm ci`): see build-dist.ts.

try {
  const started = performance.now();
  const built = await buildDist(INSTALL_DIR);
  const ms = Math.round(performance.now() - started);
  process.stdout.write(
    `built ${relative(process.cwd(), built.dir) || '.'}/: ${built.entries.length} entry points, ${built.chunks} shared chunks, ${(built.bytes / 2 ** 20).toFixed(1)} MiB from ${built.inputs} files in ${ms} ms\n`,
  );
} catch (error) {
  const errors = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors;
  const detail = errors?.length
    ? errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}: ${e.text}` : e.text)).join('\n  ')
    : (error as Error).message;
  process.stderr.write(`✗ build of dist/ failed: ${detail}\n`);
  process.exitCode = 1;
}
