import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mib } from './bench-files.ts';
import { type Corpus, generateCorpus } from './generate-corpus.ts';

// The bench's inputs in its folder: the corpus (kept and reused by the next run with the same
// size and seed) and the policies its rows run with.

/** The corpus in `base`/corpus: the one already there when its size and seed match, else a new one. */
export async function prepareCorpus(options: {
  base: string;
  size: number;
  seed: string;
  say: (line: string) => void;
}): Promise<Corpus> {
  const { base, size, seed, say } = options;
  const marker = join(base, 'corpus.json');
  const previous = await readFile(marker, 'utf8').then(
    (t) => JSON.parse(t) as { size: number; seed: string; corpus: Corpus },
    () => null,
  );
  if (previous && previous.size === size && previous.seed === seed && existsSync(previous.corpus.root)) {
    say(`▶ reusing the corpus in ${join(base, 'corpus')}`);
    return previous.corpus;
  }
  say(`▶ generating a ${mib(size)} corpus (seed ${seed}) in ${base}`);
  await rm(join(base, 'corpus'), { recursive: true, force: true });
  const corpus = await generateCorpus({ dir: join(base, 'corpus'), size, seed: Number(seed) });
  await writeFile(marker, JSON.stringify({ size, seed, corpus }));
  return corpus;
}

export interface BenchPolicies {
  /** The default policy (states offsite, so encrypted; every archive with --encrypt-all). */
  policy: string;
  /** Every archive compressed with zstd. */
  zstd: string;
  /** Logs deflated at the runbook's -6 instead of the default -4 (what that choice buys). */
  logsLevel6: string;
}

const ARCHIVES = ['states', 'logs', 'models', 'infra'];

export async function writeBenchPolicies(base: string, corpus: Corpus, encryptAll: boolean): Promise<BenchPolicies> {
  const models = `[datasets.models]\npaths = [${JSON.stringify(`${corpus.models}/`)}]\n`;
  const each = (body: string) => ARCHIVES.map((a) => `[archives.${a}]\n${body}\n`).join('');
  const policies: BenchPolicies = {
    policy: join(base, 'bench.policy.toml'),
    zstd: join(base, 'bench-zstd.policy.toml'),
    logsLevel6: join(base, 'bench-logs6.policy.toml'),
  };
  await writeFile(policies.policy, `${models}${encryptAll ? each('offsite = true') : ''}`);
  await writeFile(policies.zstd, `${models}${each('compression = "zstd"')}`);
  await writeFile(policies.logsLevel6, `${models}[archives.logs]\ngzip_level = 6\n`);
  return policies;
}
