#!/usr/bin/env node
// `ark`: one command for every operator script (the table is in scripts/cli/ark-commands.ts).
// Plain JavaScript so that it starts on every supported Node. It runs the bundle `npm run build`
// made in dist/ (npm ci makes it) while that was built from the sources as they are; otherwise
// the TypeScript sources themselves, through tsx, and says so once. ARK_FROM_SOURCES=1 always
// runs the sources.
import * as nodeModule from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { distEntry } from './dist-entry.mjs';

const installDir = fileURLToPath(new URL('..', import.meta.url));
const dist = process.env.ARK_FROM_SOURCES ? { missing: true } : distEntry(installDir, 'ark');
if ('entry' in dist) {
  // Node >= 22.1 keeps the compiled bundle between runs (checked against the file's content).
  nodeModule.enableCompileCache?.();
  await import(pathToFileURL(dist.entry).href);
} else {
  if ('stale' in dist)
    process.stderr.write(
      `⚠ ark: dist/ is out of date (${dist.stale}): running the TypeScript sources; \`npm run build\` in ${installDir} brings back the fast start\n`,
    );
  const { register } = await import('tsx/esm/api');
  register();
  await import('../scripts/cli/ark.ts');
}
