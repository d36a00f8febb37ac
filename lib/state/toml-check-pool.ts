import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { validateToml, type TomlCheck } from './validate-toml.ts';

// Validating thousands of state files is a big cost of a backup's or a restore's main thread
// (smol-toml: ~1.1 s for 12.8k files / 20 MB here; @iarna/toml, used before, took 6.6 s),
// which also packs or extracts, and hashes. So the parse runs in one worker thread,
// on the other core, as a pass/fail filter; a file it rejects is checked again here with
// validateToml, which words the reason (one source of truth for messages). Without a worker
// (it failed to start) every file is checked here, as before. The worker gets four batches at
// a time; the others wait here, and this thread checks them itself whenever it would
// otherwise wait for the worker (held back by the memory bound, or at the end): the worker
// lagging behind an extraction no longer leaves this core idle (~90 ms of a one-module restore).

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const TOML = require(workerData.toml);
const utf8 = new TextDecoder('utf-8', { fatal: true });
parentPort.on('message', ({ id, files }) => {
  const bad = [];
  files.forEach((bytes, i) => {
    try { TOML.parse(utf8.decode(bytes)); } catch { bad.push(i); }
  });
  parentPort.postMessage({ id, bad });
});`;

const BATCH_BYTES = 64 * 1024;
const WORKER_MAX_FILE = 512 * 1024;
const BATCH_FILES = 32;
const IN_FLIGHT = 4;

interface Batch {
  files: { path: string; content: Buffer }[];
  bytes: number;
}

export interface InvalidToml {
  path: string;
  reason: string;
}

export class TomlCheckPool {
  #worker: Worker | null;
  #batch: { path: string; content: Buffer }[] = [];
  #batchBytes = 0;
  #pendingBytes = 0;
  #nextId = 0;
  /** Sealed batches not sent yet: the worker's next ones, or this thread's when it would wait. */
  readonly #queued: Batch[] = [];
  readonly #inFlight = new Map<number, Batch>();
  readonly #invalid: InvalidToml[] = [];
  #waiters: (() => void)[] = [];
  #sharedHere = 0;

  constructor(options: { worker?: boolean } = {}) {
    this.#worker = options.worker === false ? null : startWorker();
    this.#worker?.on('message', ({ id, bad }: { id: number; bad: number[] }) => {
      const batch = this.#inFlight.get(id)!;
      this.#inFlight.delete(id);
      this.#pendingBytes -= batch.bytes;
      for (const i of bad) this.#checkHere(batch.files[i]!.path, batch.files[i]!.content);
      this.#pump();
      this.#wake();
    });
    // A worker that dies (out of its small heap on a huge file) hands its work back: checked here.
    this.#worker?.on('error', () => {
      this.#worker = null;
      for (const batch of [
        ...this.#inFlight.values(),
        ...this.#queued,
        { files: this.#batch, bytes: this.#batchBytes },
      ]) {
        for (const file of batch.files) this.#checkHere(file.path, file.content);
      }
      this.#inFlight.clear();
      this.#queued.length = 0;
      this.#batch = [];
      this.#batchBytes = 0;
      this.#pendingBytes = 0;
      this.#wake();
    });
  }

  /** Queue one file's bytes (or check it at once without a worker). */
  check(path: string, content: Buffer | null, tooLarge: string): void {
    if (content === null) {
      this.#invalid.push({ path, reason: tooLarge });
      return;
    }
    // The worker's heap is kept small (memory must stay flat): big files are parsed here.
    if (this.#worker === null || content.length > WORKER_MAX_FILE) return this.#checkHere(path, content);
    this.#batch.push({ path, content });
    this.#batchBytes += content.length;
    this.#pendingBytes += content.length;
    if (this.#batchBytes >= BATCH_BYTES || this.#batch.length >= BATCH_FILES) this.#seal();
  }

  /**
   * Resolves once at most `bytes` are waiting: memory stays bounded whatever the number of
   * states. Rather than wait for the worker, this thread checks queued batches itself.
   */
  async below(bytes: number): Promise<void> {
    while (this.#pendingBytes > bytes && this.#worker !== null) {
      this.#seal();
      const mine = this.#queued.pop(); // the newest: the worker takes the oldest
      if (mine !== undefined) {
        this.#pendingBytes -= mine.bytes;
        this.#sharedHere += mine.files.length;
        for (const file of mine.files) this.#checkHere(file.path, file.content);
        // Let the worker's answers in (and its next batches out) before taking another one.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Every file checked: the invalid ones, with their reasons, sorted by path. Stops the worker. */
  async finish(): Promise<InvalidToml[]> {
    this.#seal();
    await this.below(0);
    await this.#worker?.terminate();
    return [...this.#invalid].sort((a, b) => a.path.localeCompare(b.path));
  }

  /** Files of the worker's queue that this thread checked itself, instead of waiting. */
  get sharedHere(): number {
    return this.#sharedHere;
  }

  async close(): Promise<void> {
    await this.#worker?.terminate();
  }

  #seal(): void {
    if (this.#batch.length === 0 || this.#worker === null) return;
    this.#queued.push({ files: this.#batch, bytes: this.#batchBytes });
    this.#batch = [];
    this.#batchBytes = 0;
    this.#pump();
  }

  #pump(): void {
    while (this.#worker !== null && this.#inFlight.size < IN_FLIGHT && this.#queued.length > 0) {
      const batch = this.#queued.shift()!;
      const id = this.#nextId++;
      this.#inFlight.set(id, batch);
      this.#worker.postMessage({ id, files: batch.files.map((f) => f.content) });
    }
  }

  #checkHere(path: string, content: Buffer): void {
    const check: TomlCheck = validateToml(content);
    if (!check.ok) this.#invalid.push({ path, reason: check.reason });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

function startWorker(): Worker | null {
  try {
    const toml = createRequire(import.meta.url).resolve('smol-toml');
    // A bounded heap (state files are small; bigger ones are parsed on the main thread), each
    // MB of it a MB of the backup's peak RSS at worst, but not too small: with 8 MB of old
    // space the worker ran ~160 full collections on 17k files (~1.5 s of CPU; the backup
    // 2-3 s slower); 16 MB runs none, and 32 MB (+16 MB young) cost ~20 MiB more peak RSS.
    return new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { toml },
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 8 },
    });
  } catch {
    return null;
  }
}
