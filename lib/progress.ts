import type { ArkEvent, EventSink } from './events.ts';

type Progress = Extract<ArkEvent, { kind: 'progress' }>;

export interface ProgressUpdate {
  bytes: number;
  files?: number | null;
  bytesOut?: number | null;
}

export interface ProgressTask {
  update(u: ProgressUpdate): void;
  done(u: ProgressUpdate): void;
}

/**
 * Turns updates (one per chunk: thousands per second) into `progress` events: the first at
 * once, then at most every `intervalMs` per task, plus a final one. Tasks may run at once;
 * `overall` adds up every task's bytes against the run's planned total. Used by every long
 * piece of work: backup, encryption, restore (verify, extract), download and decryption,
 * upload, verify's hashing.
 */
export class ProgressReporter {
  readonly #sink: EventSink;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #totalBytes: number;
  readonly #started: number;
  #finished = 0;
  readonly #live = new Map<string, number>();

  constructor(options: { sink: EventSink; totalBytes: number; now?: () => number; intervalMs?: number }) {
    this.#sink = options.sink;
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.intervalMs ?? 250;
    this.#totalBytes = options.totalBytes;
    this.#started = this.#now();
  }

  task(task: string, label: string, totals: { bytes: number | null; files: number | null }): ProgressTask {
    const started = this.#now();
    let last = -Infinity; // the first update shows at once: work has begun
    const emit = (u: ProgressUpdate, done: boolean) => {
      const now = this.#now();
      if (!done && now - last < this.#intervalMs) return;
      last = now;
      // A task counts for its planned size once done, so the overall total stays consistent.
      if (done) {
        this.#live.delete(task);
        this.#finished += Math.max(u.bytes, totals.bytes ?? 0);
      } else {
        this.#live.set(task, totals.bytes === null ? u.bytes : Math.min(u.bytes, totals.bytes));
      }
      const overall = this.#finished + [...this.#live.values()].reduce((a, b) => a + b, 0);
      const event: Progress = {
        kind: 'progress',
        task,
        label,
        bytes: u.bytes,
        totalBytes: totals.bytes,
        files: u.files ?? null,
        totalFiles: totals.files,
        bytesOut: u.bytesOut ?? null,
        elapsedMs: now - started,
        done,
        overall: { bytes: overall, totalBytes: Math.max(this.#totalBytes, overall), elapsedMs: now - this.#started },
      };
      this.#sink(event);
    };
    return { update: (u) => emit(u, false), done: (u) => emit(u, true) };
  }
}
