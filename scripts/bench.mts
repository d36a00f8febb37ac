#!/usr/bin/env -S npx tsx
// `npm run bench`: speed and memory of full-backup, encryption and restore against the
// runbook's own commands (tar -czf + sha256sum, gpg), GNU tar with pigz / zstd, and restic,
// on a generated, seeded corpus. Not run in CI: numbers are for a person to read.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { distEntry } from '../bin/dist-entry.mjs';
import { buildDist } from './cli/build-dist.ts';
import { scriptArgs } from './cli/script-args.ts';
import { fileURLToPath } from 'node:url';
import {
  BENCH_DATE,
  type BenchPaths,
  type Corpus,
  formatTable,
  type FromBackupPhase,
  freeBytes,
  generateCorpus,
  GNU_TIME,
  measureCommand,
  nativeTypeScript,
  oursBackup,
  oursScript,
  parseSize,
  resticBackup,
  resticEnv,
  resticRestore,
  runModulePhase,
  runRecoverPhase,
  runPointsPhase,
  type PointsSpace,
  type RunMode,
  type RecordRun,
  runbookBackup,
  runbookEncrypt,
  runbookRestore,
  type ScenarioResult,
  settleDeletions,
  summarize,
  targetLines,
} from '../lib/bench/index.ts';

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

if (process.argv.includes('--child-restore')) {
  await childRestore(process.argv.slice(process.argv.indexOf('--child-restore') + 1));
} else {
  await main().catch((error: unknown) => {
    process.stderr.write(`✗ ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
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

  const tools = {
    gnuTar: /GNU tar/.test(version('tar')),
    pigz: has('pigz'),
    zstd: has('zstd'),
    gpg: has('gpg'),
    restic: has('restic'),
    time: existsSync(GNU_TIME),
  };
  const base = values.dir ? resolve(values.dir) : await mkdtemp(join(tmpdir(), 'ark-bench-'));
  await mkdir(base, { recursive: true });
  const out = (name: string) => join(base, 'out', name);
  try {
    // 1. The corpus.
    const marker = join(base, 'corpus.json');
    const previous = await readFile(marker, 'utf8').then(
      (t) => JSON.parse(t) as { size: number; seed: string; corpus: Corpus },
      () => null,
    );
    let corpus: Corpus;
    const t0 = performance.now();
    if (previous && previous.size === size && previous.seed === values.seed && existsSync(previous.corpus.root)) {
      corpus = previous.corpus;
      say(`▶ reusing the corpus in ${join(base, 'corpus')}`);
    } else {
      say(`▶ generating a ${values.size} corpus (seed ${values.seed}) in ${base}`);
      await rm(join(base, 'corpus'), { recursive: true, force: true });
      corpus = await generateCorpus({ dir: join(base, 'corpus'), size, seed: Number(values.seed) });
      await writeFile(marker, JSON.stringify({ size, seed: values.seed, corpus }));
    }
    say(
      `  ${corpus.files} files, ${mib(corpus.bytes)} (states ${mib(corpus.parts.states)}, logs ${mib(corpus.parts.logs)}, models ${mib(corpus.parts.models)}) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const modelsParent = join(base, 'corpus', 'ollama');
    const archives = ['states', 'logs', 'models', 'infra'];
    const offsite = (all: boolean) => (all ? archives.map((a) => `[archives.${a}]\noffsite = true\n`).join('') : '');
    const policy = join(base, 'bench.policy.toml');
    await writeFile(
      policy,
      `[datasets.models]\npaths = [${JSON.stringify(`${corpus.models}/`)}]\n${offsite(values['encrypt-all'])}`,
    );
    const zstdPolicy = join(base, 'bench-zstd.policy.toml');
    await writeFile(
      zstdPolicy,
      `[datasets.models]\npaths = [${JSON.stringify(`${corpus.models}/`)}]\n${archives.map((a) => `[archives.${a}]\ncompression = "zstd"\n`).join('')}`,
    );
    // The default policy deflates logs at -4; this one at the runbook's -6 (what that choice buys).
    const level6Policy = join(base, 'bench-logs6.policy.toml');
    await writeFile(
      level6Policy,
      `[datasets.models]\npaths = [${JSON.stringify(`${corpus.models}/`)}]\n[archives.logs]\ngzip_level = 6\n`,
    );
    const paths: BenchPaths = {
      repo: REPO,
      root: corpus.root,
      modelsParent,
      policy,
      node: runner(values.node ?? process.execPath, values),
    };

    // 2. A throwaway OpenPGP key (gpg) and restic repository.
    const gnupg = join(base, 'gnupg');
    const recipient = 'bench@arkalia.invalid';
    const publicKey = join(base, 'bench-public.asc');
    if (tools.gpg && phases.has('encrypt')) {
      await rm(gnupg, { recursive: true, force: true }); // a key left by an interrupted run
      await mkdir(gnupg, { recursive: true });
      await chmod(gnupg, 0o700);
      const env = { ...process.env, GNUPGHOME: gnupg };
      execFileSync(
        'gpg',
        [
          '--batch',
          '--quiet',
          '--passphrase',
          '',
          '--pinentry-mode',
          'loopback',
          '--quick-gen-key',
          `Arkalia bench <${recipient}>`,
          'default',
          'default',
          'never',
        ],
        { env, stdio: 'ignore' },
      );
      await writeFile(publicKey, execFileSync('gpg', ['--armor', '--export', recipient], { env }));
    }
    const resticCache = join(base, 'restic-cache');
    const resticRepo = out('restic');

    // 3. The runs, interleaved: every command once per run, so that a noisy neighbour hurts all alike.
    const results = new Map<string, ScenarioResult>();
    const record: RecordRun = async (phase, tool, baseline, spec, output, note) => {
      const key = `${phase}\0${tool}`;
      const entry = results.get(key) ?? {
        phase,
        tool,
        baseline,
        runs: [],
        outputBytes: null,
        ...(note ? { note } : {}),
      };
      results.set(key, entry);
      say(`  ${phase}: ${tool} …`);
      const m = await measureCommand(spec);
      entry.runs.push(m);
      if (output !== null) entry.outputBytes = await treeBytes(output);
      say(
        `    ${(m.wallMs / 1000).toFixed(2)} s${m.maxRssBytes ? `, peak RSS ${mib(m.maxRssBytes)}` : ''}${m.code === 0 ? '' : ` — FAILED (exit ${m.code}): ${m.stderr.trim().split('\n').slice(-3).join(' | ')}`}`,
      );
    };
    const fresh = async (dir: string) => {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      return dir;
    };
    const oursDaily = (dir: string) => join(dir, 'daily', `arkalia_${BENCH_DATE}`);
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
    const resticRestores = tools.restic && phases.has('restore');
    const restoreTools =
      2 + Number(resticRestores) + (phases.has('backup') ? Number(tools.pigz) + Number(tools.zstd) : 0);
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
        await record(
          'backup',
          'runbook: tar -czf + sha256sum',
          true,
          runbookBackup(paths, await fresh(out('runbook'))),
          out('runbook'),
        );
        await rm(out('ours'), { recursive: true, force: true });
        await record('backup', 'arkalia-dr full-backup', false, oursBackup(paths, out('ours')), oursDaily(out('ours')));
        if (phases.has('backup')) {
          await rm(out('ours-logs6'), { recursive: true, force: true });
          await record(
            'backup',
            'arkalia-dr, logs at gzip -6 (runbook level)',
            false,
            oursBackup(paths, out('ours-logs6'), {}, level6Policy),
            oursDaily(out('ours-logs6')),
          );
          if (tools.gnuTar) {
            await rm(out('ours-gnu'), { recursive: true, force: true });
            await record(
              'backup',
              'arkalia-dr, GNU tar packing (ARK_TAR=gnu)',
              false,
              oursBackup(paths, out('ours-gnu'), { ARK_TAR: 'gnu' }),
              oursDaily(out('ours-gnu')),
            );
          }
          if (tools.zstd) {
            await rm(out('ours-zstd'), { recursive: true, force: true });
            await record(
              'backup',
              'arkalia-dr, compression = "zstd"',
              false,
              oursBackup(paths, out('ours-zstd'), {}, zstdPolicy),
              oursDaily(out('ours-zstd')),
            );
          }
          if (tools.pigz)
            await record(
              'backup',
              'GNU tar + pigz -6 + sha256sum',
              false,
              runbookBackup(paths, await fresh(out('pigz')), 'pigz'),
              out('pigz'),
            );
          if (tools.zstd)
            await record(
              'backup',
              'GNU tar + zstd -T2 + sha256sum',
              false,
              runbookBackup(paths, await fresh(out('zstd')), 'zstd'),
              out('zstd'),
            );
          if (tools.restic) {
            await rm(resticRepo, { recursive: true, force: true });
            execFileSync('restic', ['init', '--quiet'], { env: resticEnv(resticRepo, resticCache), stdio: 'ignore' });
            await record(
              'backup',
              'restic backup (fresh repository)',
              false,
              resticBackup(paths, resticEnv(resticRepo, resticCache)),
              resticRepo,
            );
          }
        } else if (resticRestores && run === 1) {
          // Without the backup phase, restic's repository of the corpus is made once, untimed:
          // the restore phase still has its restic row.
          say("  restore: making restic's repository of the corpus (untimed) …");
          await rm(resticRepo, { recursive: true, force: true });
          const env = resticEnv(resticRepo, resticCache);
          execFileSync('restic', ['init', '--quiet'], { env, stdio: 'ignore' });
          const [command, ...args] = resticBackup(paths, env).argv;
          execFileSync(command!, args, { env, stdio: 'ignore' });
        }
      }
      if (phases.has('points')) {
        pointsSpace =
          (await runPointsPhase({
            paths,
            dir: out('points'),
            record,
            restic: tools.restic ? { cache: resticCache } : null,
            run,
          })) ?? pointsSpace;
      }
      // What the recover and module phases restore from: this round's backup of ours.
      const fromBackup = (phase: string): FromBackupPhase => ({
        paths,
        backupDir: out('ours'),
        daily: oursDaily(out('ours')),
        policy,
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
      if (phases.has('encrypt') && tools.gpg) {
        const files = (await readdir(out('runbook'))).filter(
          (f) => f.endsWith('.tar.gz') && (values['encrypt-all'] || f.startsWith('arkalia_states_')),
        );
        const what = values['encrypt-all'] ? 'every archive' : 'the states archive';
        await record(
          'encrypt',
          'runbook: gpg --encrypt (defaults) + decrypt | sha256sum',
          true,
          runbookEncrypt(out('runbook'), await fresh(out('runbook-gpg')), gnupg, recipient, files, true),
          out('runbook-gpg'),
          `encrypts ${what}`,
        );
        await record(
          'encrypt',
          'runbook, gpg --compress-algo none',
          false,
          runbookEncrypt(out('runbook'), await fresh(out('runbook-gpg-none')), gnupg, recipient, files, false),
          out('runbook-gpg-none'),
        );
        await rm(join(out('ours'), 'encrypted'), { recursive: true, force: true });
        await record(
          'encrypt',
          'arkalia-dr encrypted-backup (verified)',
          false,
          oursScript(paths, 'encrypted-backup.mts', [
            '--backup-dir',
            out('ours'),
            '--policy',
            policy,
            '--recipient',
            publicKey,
          ]),
          join(out('ours'), 'encrypted'),
        );
      }
      if (phases.has('restore')) {
        await calm();
        const target = (tool: string) => fresh(join(base, 'restore', `${tool}-${run}`));
        await record(
          'restore',
          'runbook: sha256sum -c + tar -xzf',
          true,
          runbookRestore(out('runbook'), await target('runbook')),
          null,
        );
        const oursTarget = await target('ours');
        await record(
          'restore',
          'arkalia-dr: verify + safe extract',
          false,
          oursScript(
            paths,
            'bench.mts',
            ['--child-restore', oursDaily(out('ours')), oursTarget],
            {},
            { sources: true },
          ),
          null,
        );
        if (phases.has('backup')) {
          if (tools.pigz)
            await record(
              'restore',
              'pigz -d + GNU tar',
              false,
              runbookRestore(out('pigz'), await target('pigz'), 'pigz'),
              null,
            );
          if (tools.zstd)
            await record(
              'restore',
              'zstd -d + GNU tar',
              false,
              runbookRestore(out('zstd'), await target('zstd'), 'zstd'),
              null,
            );
        }
        if (resticRestores)
          await record(
            'restore',
            'restic restore',
            false,
            resticRestore(await target('restic'), resticEnv(resticRepo, resticCache)),
            null,
          );
        if (!keepRestores) {
          await rm(join(base, 'restore'), { recursive: true, force: true });
          calmAt = settleDeletions();
        }
      }
      // ark ran the bundle only if the sources did not change meanwhile (it would have run them).
      if (!values.sources && !('entry' in distEntry(REPO, 'ark')))
        throw new Error('the sources changed during the bench: ark ran them, not the bundle; run the bench again');
    }

    // 4. What we wrote is still what GNU tools read.
    const gnuReadable = await checkGnuReadable(oursDaily(out('ours')));
    const rows = summarize([...results.values()]);
    const report = [
      `arkalia-dr bench — corpus ${mib(corpus.bytes)} in ${corpus.files} files (seed ${values.seed}), ${runs} run(s), medians`,
      `machine: ${availableParallelism()} cores, Node ${process.version}${values.node ? ` (arkalia-dr on Node ${firstLine(spawnSync(values.node, ['--version'], { encoding: 'utf8' }).stdout ?? '?')}, ${values.node}` : ' (arkalia-dr'}: ${RUN_MODE[paths.node!.mode]}), ${firstLine(version('tar'))}, load average at end ${loadavg()
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
    if (existsSync(gnupgHomeOf(base)))
      spawnSync('gpgconf', ['--kill', 'gpg-agent'], {
        env: { ...process.env, GNUPGHOME: gnupgHomeOf(base) },
        stdio: 'ignore',
      });
    // A folder given with --dir keeps its corpus (the next run reuses it); a temporary one goes.
    if (values.keep) say(`kept ${base}`);
    else if (values.dir)
      for (const name of ['out', 'restore', 'recover', 'module', 'gnupg', 'restic-cache'])
        await rm(join(base, name), { recursive: true, force: true });
    else await rm(base, { recursive: true, force: true });
  }
}

/** Hidden mode: what a full restore does with each archive — verify the checksums first, then extract safely. */
async function childRestore([dir, target]: string[]): Promise<void> {
  const { assertChecksumsOk, parseManifest, verifyChecksums } = await import('../lib/checksum/index.ts');
  const { extractArchive } = await import('../lib/archive/index.ts');
  const { ExtractBudget } = await import('../lib/archive/index.ts');
  const checksums = join(dir!, `checksums_${BENCH_DATE}.sha256`);
  assertChecksumsOk(await verifyChecksums(checksums), checksums);
  const manifest = parseManifest(await readFile(join(dir!, `backup_manifest_${BENCH_DATE}.json`), 'utf8'));
  const budget = new ExtractBudget({ maxBytes: Number.MAX_SAFE_INTEGER, maxEntries: Number.MAX_SAFE_INTEGER });
  for (const archive of manifest.archives ?? [])
    await extractArchive({ file: join(dir!, archive.file), cwd: target!, budget });
}

async function checkGnuReadable(dir: string): Promise<string> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const gz = names.filter((n) => n.endsWith('.tar.gz'));
  if (gz.length === 0) return 'not checked (no backup)';
  for (const name of gz) {
    for (const argv of [
      ['gzip', '-t', name],
      ['tar', '-tzf', name],
    ]) {
      const result = spawnSync(argv[0]!, argv.slice(1), { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      if (result.status !== 0) return `NO: ${argv.join(' ')} failed: ${result.stderr.toString().trim()}`;
    }
  }
  return `yes (${gz.length} archives)`;
}

function gnupgHomeOf(base: string): string {
  return join(base, 'gnupg');
}

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function version(command: string): string {
  const result = spawnSync(command, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout : '';
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MiB`;
}

async function treeBytes(path: string): Promise<number> {
  const info = await stat(path).catch(() => null);
  if (info === null) return 0;
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const name of await readdir(path)) total += await treeBytes(join(path, name));
  return total;
}

/** How our scripts run: through `ark` on the bundle, or with --sources natively (Node >= 22.18) or with tsx. */
function runner(path: string, options: { sources: boolean; tsx: boolean }): { path: string; mode: RunMode } {
  if (!options.sources) return { path, mode: 'built' };
  return { path, mode: !options.tsx && nativeTypeScript(path) ? 'native' : 'tsx' };
}
