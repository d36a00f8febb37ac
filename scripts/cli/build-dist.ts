import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { distEntry } from '../../bin/dist-entry.mjs';
import { ARK_COMMANDS } from './ark-commands.ts';

// `npm run build` (and npm's `prepare`, so `npm ci` runs it): every operator script bundled
// with esbuild into dist/<script>.mjs, the code they share in dist/chunk-<hash>.mjs, so that
// `ark` starts in a fifth of the time the TypeScript sources take to load (tsx, or Node's type
// stripping, and zod's 95 files read one by one). dist/build-info.json records every source
// file that went in (size, mtime, sha256): bin/ark.mjs runs the bundle only while they are all
// unchanged, and the sources otherwise (bin/dist-entry.mjs reads that record).

/** The record bin/dist-entry.mjs checks; `version` changes with its format. */
export interface BuildInfo {
  version: 1;
  builtAt: string;
  /** Repo-relative path → what the file was when bundled. */
  inputs: Record<string, { size: number; mtimeMs: number; sha256: string }>;
}

export const BUILD_INFO = 'build-info.json';

/**
 * Loaded from node_modules at run time, not bundled: the Docker client (native ssh2 addon
 * behind it) and the AWS SDK (hundreds of files, only for an S3 offsite, loaded on demand).
 */
const EXTERNAL = ['dockerode', 'ssh2', 'cpu-features', '@aws-sdk/*'];

/** Files that decide what node_modules holds: a change to either means rebuild. */
const PACKAGE_FILES = ['package.json', 'package-lock.json'];

/** Chunks no longer referenced are kept this long: a run started before a rebuild may still load them. */
const OLD_CHUNK_GRACE_MS = 24 * 3600_000;

export interface BuildResult {
  dir: string;
  entries: string[];
  chunks: number;
  inputs: number;
  bytes: number;
}

export async function buildDist(installDir: string, { now = Date.now() } = {}): Promise<BuildResult> {
  const started = Date.now();
  const dist = join(installDir, 'dist');
  const entryPoints = Object.fromEntries([
    ['ark', join(installDir, 'scripts/cli/ark.ts')],
    ...Object.values(ARK_COMMANDS).map((c) => [c.script, join(installDir, 'scripts', `${c.script}.mts`)]),
  ]);
  const result = await build({
    absWorkingDir: installDir,
    entryPoints,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    outdir: dist,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    external: EXTERNAL,
    define: { ARK_BUNDLED: 'true' },
    // Some bundled packages are CommonJS and call require(): give every output file one.
    banner: {
      js: "import { createRequire as __arkRequire } from 'node:module'; const require = __arkRequire(import.meta.url);",
    },
    metafile: true,
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
  });
  await mkdir(dist, { recursive: true });
  // Each file written aside then renamed: a run loading dist/ meanwhile sees whole files.
  for (const file of result.outputFiles) {
    const aside = `${file.path}.${process.pid}.tmp`;
    await writeFile(aside, file.contents, { mode: 0o644 });
    await rename(aside, file.path);
  }
  const written = new Set(result.outputFiles.map((f) => f.path));
  for (const name of await readdir(dist)) {
    const path = join(dist, name);
    if (written.has(path) || name === BUILD_INFO) continue;
    if (name.endsWith('.tmp') || (name.startsWith('chunk-') && now - (await stat(path)).mtimeMs > OLD_CHUNK_GRACE_MS))
      await rm(path, { force: true });
  }

  const sources = Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('node_modules/'));
  const inputs = Object.fromEntries(
    [...sources, ...PACKAGE_FILES].sort().map((p) => [p, describe(join(installDir, p))]),
  );
  // A file edited while esbuild read it would be recorded with content the bundle lacks.
  const moved = Object.entries(inputs).find(([, d]) => d.mtimeMs >= started);
  if (moved) throw new Error(`${moved[0]} changed during the build: run it again`);
  const info: BuildInfo = { version: 1, builtAt: new Date(now).toISOString(), inputs };
  const infoPath = join(dist, BUILD_INFO);
  await writeFile(`${infoPath}.${process.pid}.tmp`, `${JSON.stringify(info, null, 1)}\n`);
  await rename(`${infoPath}.${process.pid}.tmp`, infoPath);
  return {
    dir: dist,
    entries: Object.keys(entryPoints),
    chunks: result.outputFiles.filter((f) => /\/chunk-[^/]+\.mjs$/.test(f.path)).length,
    inputs: Object.keys(result.metafile.inputs).length,
    bytes: result.outputFiles.reduce((n, f) => n + f.contents.length, 0),
  };
}

function describe(path: string): BuildInfo['inputs'][string] {
  const { size, mtimeMs } = statSync(path);
  return { size, mtimeMs, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
}

/** dist/ as the sources are now: built only when a source changed since the last build (or there is none). */
export async function ensureDist(installDir: string): Promise<'fresh' | 'built'> {
  if ('entry' in distEntry(installDir, 'ark')) return 'fresh';
  await buildDist(installDir);
  return 'built';
}
