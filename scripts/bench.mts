#!/usr/bin/env -S npx tsx
// `npm run bench`: speed and memory of full-backup, encryption and restore against the
// runbook's own commands (tar -czf + sha256sum, gpg), GNU tar with pigz / zstd, and restic,
// on a generated, seeded corpus. Not run in CI: numbers are for a person to read.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { distEntry } from '../bin/dist-entry.mjs';
import {
  type BenchPaths,
  checkGnuReadable,
  createRecorder,
  dailyOf,
  detectTools,
  formatTable,
  type FromBackupPhase,
  freeBytes,
  makeBenchKey,
  makeResticRepository,
  mib,
  nativeTypeScript,
  oursScript,
  parseSize,
  type PointsSpace,
  prepareCorpus,
  type RunMode,
  runBackupPhase,
  runEncryptPhase,
  runModulePhase,
  runPointsPhase,
  runRecoverPhase,
  runRestorePhase,
  settleDeletions,
  stopAgent,
  summarize,
  targetLines,
  toolVersion,
  verifyAndExtract,
  writeBenchPolicies,
} from '../lib/bench/index.ts';
import { buildDist } from './cli/build-dist.ts';
import { scriptArgs } from './cli/script-args.ts';

const HELP = `Usage: npm run bench -- [options]

Generates a seeded Arkalia-like corpus (thousands of small TOML/JSON states, big compressible
logs, an incompressible model blob under ollama/models) and times, in the same run and
interleaved: full backup, encryption, restore of every archive, and full-system recovery of
the state (disaster-recovery into an empty root) with arkalia-dr and with the runbook's own
commands, GNU tar + pigz, GNU tar + zstd -T2 and restic (each when installed).
Prints medians, ratios to the runbook (of the medians, and per run) and peak RSS.

Options:
  --size SIZE     corpus size (default 1GiB; e.g. 256MiB, 4GiB)
  --runs N        runs of each command (default 3); the median is reported
  --seed N        corpus seed (default 1)
  --dir DIR       where to work (default: a new folder under $TMPDIR, removed at the end);
                  needs ~6x SIZE free, and RUNS x 5 x SIZE more to keep every round's
                  restored trees until the end (with less, each round's are removed and
                  the next restore waits six minutes: ext4 creates files slowly right
                  after a mass deletion). Its corpus is kept and reused by the next run with
                  the same --size and --seed
  --encrypt-all   encrypt every archive (default: only those the policy marks offsite,
                  the states, as the runbook's ark_encrypted_backup.sh does)
  --only LIST     phases to run, comma-separated: backup,encrypt,restore,recover,module,points
                  (default all). points: a backup right after a backup (nothing changed),
                  an hourly point after a database change, restic's second backup, and
                  what seven unchanged points use on disk (du) against one. restore
                  without backup still times restic restore (its repository is made
                  once, untimed). The report ends with each issue's targets, met or not
  --node PATH     run arkalia-dr's scripts with that node (default: this one)
  --sources       run them from their TypeScript sources (zx scripts/X.mts: natively on a
                  Node >= 22.18, with tsx before), not through \`ark\` on the bundle in
                  dist/ (which the bench rebuilds first, from the sources as they are)
  --tsx           with --sources: through tsx's loader even on a Node >= 22.18
  --json FILE     also write the results as JSON
  --keep          keep the corpus and outputs
  -h, --help      show this help`;

const REPO = fileURLToPath(new URL('..', import.meta.url));

const RUN_MODE: Record<RunMode, string> = {
  built: 'ark on the bundle in dist/',
  native: 'TypeScript sources, native',
  tsx: 'TypeScript sources, with tsx',
};

const fail = (error: unknown) => {
  process.stderr.write(`✗ ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
};
if (process.argv.includes('--child-restore')) {
  // Hidden mode, the restore phase's timed row: verify every archive's checksum, then extract safely.
  const [daily, target] = process.argv.slice(process.argv.indexOf('--child-restore') + 1);
  await verifyAndExtract(daily!, target!).catch(fail);
} else {
  await main().catch(fail);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: scriptArgs(process.argv, import.meta.url), // zx runs it as `node cli.js bench.mts ...`
    options: {
      size: { type: 'string', default: '1GiB' },
      runs: { type: 'string', default: '3' },
      seed: { type: 'string', default: '1' },
      dir: { type: 'string' },
      'encrypt-all': { type: 'boolean', default: false },
      only: { type: 'string', default: 'backup,encrypt,restore,recover,module,points' },
      json: { type: 'string' },
      node: { type: 'string' },
      tsx: { type: 'boolean', default: false },
      sources: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return void process.stdout.write(`${HELP}\n`);
  const size = parseSize(values.size);
  const runs = Number(values.runs);
  if (size === null) throw new Error(`--size: expected a size such as 1GiB or 300MiB, got ${values.size}`);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a positive integer, got ${values.runs}`);
  const phases = new Set(values.only.split(','));
  const unknown = [...phases].filter(
    (p) => !['backup', 'encrypt', 'restore', 'recover', 'module', 'points'].includes(p),
  );
  if (unknown.length > 0)
    throw new Error(
      `--only: unknown phase(s) ${unknown.join(', ')} (expected backup, encrypt, restore, recover, module, points)`,
    );
  const say = (line: string) => process.stderr.write(`${line}\n`);
  if (!values.sources) {
    // ark runs the bundle only while it matches the sources: build it from them as they are.
    const built = await buildDist(REPO);
    if (!('entry' in distEntry(REPO, 'ark'))) throw new Error('dist/ is not fresh right after its build');
    say(
      `▶ built dist/ (${built.entries.length} entry points, ${built.chunks} chunks): ours run as \`ark <script>\` on it`,
    );
  }

  const tools = detectTools();
  const base = values.dir ? resolve(values.dir) : await mkdtemp(join(tmpdir(), 'ark-bench-'));
  await mkdir(base, { recursive: true });
  const outDir = join(base, 'out');
  const out = (name: string) => join(outDir, name);
  const gnupgHome = join(base, 'gnupg');
  try {
    // 1. The corpus, its policies, a throwaway OpenPGP key.
    const t0 = performance.now();
    const corpus = await prepareCorpus({ base, size, seed: values.seed, say });
    say(
      `  ${corpus.files} files, ${mib(corpus.bytes)} (states ${mib(corpus.parts.states)}, logs ${mib(corpus.parts.logs)}, models ${mib(corpus.parts.models)}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const policies = await writeBenchPolicies(base, corpus, values['encrypt-all']);
    const paths: BenchPaths = {
      repo: REPO,
      root: corpus.root,
      modelsParent: join(base, 'corpus', 'ollama'),
      policy: policies.policy,
      node: runner(values.node ?? process.execPath, values),
    };
    const key =
      tools.gpg && phases.has('encrypt') ? await makeBenchKey(gnupgHome, join(base, 'bench-public.asc')) : null;
    const restic = { repo: out('restic'), cache: join(base, 'restic-cache') };

    // 2. The runs, interleaved: every command once per run, so that a noisy neighbour hurts all alike.
    const { record, results } = createRecorder(say);
    // Timed restores create thousands of files: none may run while ext4 still skips inodes freed
    // by a deletion (see lib/bench/quiet-disk.ts). Leftovers of an earlier bench go first, then
    // the rounds delete nothing until the end — unless the disk cannot hold every round's tree.
    for (const name of ['restore', 'recover', 'module']) await rm(join(base, name), { recursive: true, force: true });
    let calmAt = settleDeletions();
    const calm = async () => {
      const wait = calmAt - Date.now();
      if (wait <= 0) return;
      say(`  waiting ${Math.ceil(wait / 1000)} s: the file system still skips the inodes freed by the last deletion`);
      await new Promise((done) => setTimeout(done, wait));
    };
    const variants = phases.has('backup');
    const resticRestores = tools.restic && phases.has('restore');
    const restoreTools = 2 + Number(resticRestores) + (variants ? Number(tools.pigz) + Number(tools.zstd) : 0);
    const keepRestores =
      !phases.has('restore') || (await freeBytes(base)) > runs * restoreTools * corpus.bytes * 1.1 + 2 * 1024 ** 3;
    if (!keepRestores)
      say(
        `  not enough free space to keep every round's restored trees: each is removed after its round, then a pause`,
      );
    let recoveredSame: string | null = null;
    let moduleSame: string | null = null;
    let pointsSpace: PointsSpace | null = null;

    for (let run = 1; run <= runs; run += 1) {
      say(
        `▶ run ${run}/${runs} (load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')})`,
      );
      if (['backup', 'encrypt', 'restore', 'recover', 'module'].some((p) => phases.has(p))) {
        await runBackupPhase({ paths, out: outDir, record, tools, policies, restic, variants });
        if (!variants && resticRestores && run === 1) {
          // Without the backup phase, restic's repository of the corpus is made once, untimed:
          // the restore phase still has its restic row.
          say("  restore: making restic's repository of the corpus (untimed) …");
          await makeResticRepository(paths, restic);
        }
      }
      if (phases.has('points')) {
        pointsSpace =
          (await runPointsPhase({
            paths,
            dir: out('points'),
            record,
            restic: tools.restic ? { cache: restic.cache } : null,
            run,
          })) ?? pointsSpace;
      }
      // What the recover and module phases restore from: this round's backup of ours.
      const fromBackup = (phase: string): FromBackupPhase => ({
        paths,
        backupDir: out('ours'),
        daily: dailyOf(out('ours')),
        policy: policies.policy,
        dir: join(base, phase),
        record,
        run,
      });
      if (phases.has('recover')) {
        await calm();
        const problem = await runRecoverPhase(fromBackup('recover'));
        if (problem !== null) recoveredSame = `NO (run ${run}): ${problem}`;
        else recoveredSame ??= 'yes';
      }
      if (phases.has('module')) {
        await calm();
        const problem = await runModulePhase(fromBackup('module'));
        if (problem !== null) moduleSame = `NO (run ${run}): ${problem}`;
        else moduleSame ??= 'yes';
      }
      if (key !== null)
        await runEncryptPhase({
          paths,
          out: outDir,
          policy: policies.policy,
          key,
          record,
          encryptAll: values['encrypt-all'],
        });
      if (phases.has('restore')) {
        await calm();
        await runRestorePhase({
          paths,
          out: outDir,
          dir: join(base, 'restore'),
          record,
          tools,
          variants,
          restic: resticRestores ? restic : null,
          run,
          childRestore: (daily, target) =>
            oursScript(paths, 'bench.mts', ['--child-restore', daily, target], {}, { sources: true }),
        });
        if (!keepRestores) {
          await rm(join(base, 'restore'), { recursive: true, force: true });
          calmAt = settleDeletions();
        }
      }
      // ark ran the bundle only if the sources did not change meanwhile (it would have run them).
      if (!values.sources && !('entry' in distEntry(REPO, 'ark')))
        throw new Error('the sources changed during the bench: ark ran them, not the bundle; run the bench again');
    }

    // 3. What we wrote is still what GNU tools read.
    const gnuReadable = await checkGnuReadable(dailyOf(out('ours')));
    const rows = summarize(results());
    const report = [
      `arkalia-dr bench — corpus ${mib(corpus.bytes)} in ${corpus.files} files (seed ${values.seed}), ${runs} run(s), medians`,
      `machine: ${availableParallelism()} cores, Node ${process.version}${values.node ? ` (arkalia-dr on Node ${firstLine(spawnSync(values.node, ['--version'], { encoding: 'utf8' }).stdout ?? '?')}, ${values.node}` : ' (arkalia-dr'}: ${RUN_MODE[paths.node!.mode]}), ${firstLine(toolVersion('tar'))}, load average at end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}`,
      `tools: pigz ${tools.pigz ? 'yes' : 'no'}, zstd ${tools.zstd ? 'yes' : 'no'}, gpg ${tools.gpg ? 'yes' : 'no'}, restic ${tools.restic ? 'yes' : 'no'}, peak RSS from ${tools.time ? '/usr/bin/time' : '/proc VmHWM sampling'}`,
      '',
      formatTable(rows),
      '',
      'targets:',
      ...targetLines({
        rows,
        phases,
        encryptAll: values['encrypt-all'] ?? false,
        pointsSpace,
        gnuReadable,
        recoveredSame,
        moduleSame,
      }),
    ].join('\n');
    process.stdout.write(`${report}\n`);
    if (values.json)
      await writeFile(
        values.json,
        `${JSON.stringify({ size: corpus.bytes, files: corpus.files, runs, rows, tools, pointsSpace }, null, 2)}\n`,
      );
  } finally {
    stopAgent(gnupgHome);
    // A folder given with --dir keeps its corpus (the next run reuses it); a temporary one goes.
    if (values.keep) say(`kept ${base}`);
    else if (values.dir)
      for (const name of ['out', 'restore', 'recover', 'module', 'gnupg', 'restic-cache'])
        await rm(join(base, name), { recursive: true, force: true });
    else await rm(base, { recursive: true, force: true });
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

/** How our scripts run: through `ark` on the bundle, or with --sources natively (Node >= 22.18) or with tsx. */
function runner(path: string, options: { sources: boolean; tsx: boolean }): { path: string; mode: RunMode } {
  if (!options.sources) return { path, mode: 'built' };
  return { path, mode: !options.tsx && nativeTypeScript(path) ? 'native' : 'tsx' };
}
