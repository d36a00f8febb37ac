import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SAMPLE_ROOT } from '../../sample/index.ts';

// A reproducible Arkalia-shaped tree for `npm run bench`: thousands of small TOML/JSON state
// files, a few configs and a .env, big compressible logs, an incompressible model blob under
// an ollama-style models folder, and the infra files. Same seed and size: same bytes.

export interface CorpusOptions {
  /** Where to create the tree; `<dir>/arkalia` is the root and `<dir>/ollama/models` the models. */
  dir: string;
  /** Approximate total bytes. */
  size: number;
  seed?: number;
}

export interface Corpus {
  root: string;
  /** Absolute folder, as the runbook's /var/lib/ollama/models. */
  models: string;
  files: number;
  bytes: number;
  /** Bytes per data set, for the report. */
  parts: { states: number; logs: number; models: number; infra: number };
}

const KiB = 1024;
const MiB = 1024 * KiB;
const MODULES = [
  'reflexia',
  'zeroia',
  'helloria',
  'assistantia',
  'sandozia',
  'taskia',
  'cognitive_reactor',
  'chronalia',
];

/** Shares of the total: model weights dominate a real Arkalia host, logs come next, states are many but small. */
export const CORPUS_SHARES = Object.freeze({ models: 0.6, logs: 0.36, states: 0.035 });

export async function generateCorpus(options: CorpusOptions): Promise<Corpus> {
  const seed = options.seed ?? 1;
  const root = join(options.dir, 'arkalia');
  const models = join(options.dir, 'ollama', 'models');
  const rand = xorshift(seed);
  let files = 0;
  let bytes = 0;
  const put = async (path: string, content: string | Buffer) => {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
    files += 1;
    bytes += Buffer.byteLength(content);
  };

  // States: thousands of small TOML/JSON files across modules (2-12 KiB each).
  const statesTarget = Math.max(256 * KiB, Math.round(options.size * CORPUS_SHARES.states));
  let states = 0;
  for (let i = 0; states < statesTarget; i += 1) {
    const module = MODULES[i % MODULES.length]!;
    const json = i >= MODULES.length && i % 4 === 3;
    const text = json ? stateJson(rand, module, i) : stateToml(rand, module, i);
    const name =
      i < MODULES.length ? `${module}_state.toml` : `${module}_${String(i).padStart(5, '0')}.${json ? 'json' : 'toml'}`;
    const where = i % 10 === 9 ? join(root, 'state', name) : join(root, 'modules', module, 'state', name);
    await put(where, text);
    states += Buffer.byteLength(text);
  }
  await put(join(root, 'global_state', 'global_context.toml'), stateToml(rand, 'global', 0));
  for (const module of MODULES.slice(0, 4))
    await put(join(root, 'config', `${module}_config.toml`), stateToml(rand, module, 1));
  await put(join(root, '.env'), 'ARKALIA_SECRET=bench-not-a-secret\nOLLAMA_HOST=http://127.0.0.1:11434\n');

  // Logs: a few large, compressible files (a realistic 6-10:1 with gzip -6).
  const logsTarget = Math.round(options.size * CORPUS_SHARES.logs);
  const logFiles = Math.max(2, Math.min(12, Math.round(logsTarget / (48 * MiB))));
  let logs = 0;
  for (let f = 0; f < logFiles; f += 1) {
    const want = Math.round(logsTarget / logFiles);
    const path = join(
      root,
      f % 3 === 2 ? join('modules', MODULES[f % MODULES.length]!, 'logs') : 'logs',
      `arkalia_${f}.log`,
    );
    await mkdir(dirname(path), { recursive: true });
    await pipeline(Readable.from(logLines(rand, want)), createWriteStream(path));
    files += 1;
    bytes += want;
    logs += want;
  }

  // Models: ollama's layout, one big incompressible blob plus a small manifest.
  const modelsTarget = Math.max(1 * MiB, Math.round(options.size * CORPUS_SHARES.models));
  const digest = createHash('sha256').update(`model-${seed}`).digest('hex');
  const blob = join(models, 'blobs', `sha256-${digest}`);
  await mkdir(dirname(blob), { recursive: true });
  await pipeline(Readable.from(incompressible(seed, modelsTarget)), createWriteStream(blob));
  files += 1;
  bytes += modelsTarget;
  await put(
    join(models, 'manifests', 'registry.ollama.ai', 'library', 'tinyllama', 'latest'),
    `${JSON.stringify({ schemaVersion: 2, layers: [{ digest: `sha256:${digest}`, size: modelsTarget }] })}\n`,
  );

  // Infra: the sample root's compose file and version.toml, plus a Dockerfile and a script.
  let infra = 0;
  for (const [path, text] of [
    ['docker-compose.yml', await readFile(join(SAMPLE_ROOT, 'docker-compose.yml'), 'utf8')],
    ['version.toml', await readFile(join(SAMPLE_ROOT, 'version.toml'), 'utf8')],
    ['Dockerfile', 'FROM python:3.11-slim\nCOPY . /app\n'],
    ['scripts/ark-sec-check.sh', '#!/bin/sh\necho ok\n'],
  ] as const) {
    await put(join(root, path), text);
    infra += Buffer.byteLength(text);
  }
  return { root, models, files, bytes, parts: { states, logs, models: modelsTarget, infra } };
}

type Rand = () => number;

/** xorshift32: tiny, seeded, good enough for shaping text. Returns [0, 1). */
function xorshift(seed: number): Rand {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const hex = (rand: Rand, n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');

function stateToml(rand: Rand, module: string, i: number): string {
  const lines = [
    `# ${module} state`,
    '[decision]',
    `last_decision = "${pick(rand, ['maintain', 'scale_up', 'pause', 'reflect', 'escalate'])}"`,
    `confidence_score = ${rand().toFixed(4)}`,
    `timestamp = "2026-03-${String(1 + (i % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:00:00"`,
    '',
  ];
  const sections = 4 + Math.floor(rand() * 20);
  for (let s = 0; s < sections; s += 1) {
    lines.push(
      `[metrics.m${s}]`,
      `value = ${(rand() * 1000).toFixed(3)}`,
      `trend = "${pick(rand, ['up', 'down', 'flat'])}"`,
      `id = "${hex(rand, 16)}"`,
      `samples = [${Array.from({ length: 8 }, () => Math.floor(rand() * 100)).join(', ')}]`,
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

function stateJson(rand: Rand, module: string, i: number): string {
  const entries = Array.from({ length: 10 + Math.floor(rand() * 60) }, (_, k) => ({
    k,
    score: Number(rand().toFixed(4)),
    tag: pick(rand, ['alpha', 'beta', 'gamma']),
    id: hex(rand, 12),
  }));
  return `${JSON.stringify({ module, index: i, entries }, null, 2)}\n`;
}

function* logLines(rand: Rand, bytes: number): Generator<string> {
  const levels = ['INFO', 'INFO', 'INFO', 'DEBUG', 'WARNING', 'ERROR'];
  const messages = [
    'decision cycle complete',
    'health check ok',
    'state written atomically',
    'request served',
    'cache miss, recomputing',
    'model reply in',
    'retrying upstream call',
    'confidence below threshold',
  ];
  let written = 0;
  let t = 1_767_225_600;
  while (written < bytes) {
    let chunk = '';
    for (let n = 0; n < 1000; n += 1) {
      t += Math.floor(rand() * 3);
      chunk += `${new Date(t * 1000).toISOString()} ${pick(rand, levels)} [${pick(rand, MODULES)}] ${pick(rand, messages)} id=${hex(rand, 8)} ms=${Math.floor(rand() * 900)} score=${rand().toFixed(3)}\n`;
    }
    if (written + chunk.length > bytes) chunk = chunk.slice(0, bytes - written);
    written += chunk.length;
    yield chunk;
  }
}

/** AES-CTR keystream from the seed: incompressible, reproducible, and fast to make. */
function* incompressible(seed: number, bytes: number): Generator<Buffer> {
  const key = createHash('sha256').update(`arkalia-bench-${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(MiB);
  for (let done = 0; done < bytes; done += MiB) yield cipher.update(zeros.subarray(0, Math.min(MiB, bytes - done)));
}
