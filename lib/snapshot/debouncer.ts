// Per-key trailing debounce with a ceiling: a burst of writes to one file fires once, `waitMs`
// after the last write, but never later than `maxWaitMs` after the first (a service that
// rewrites its state every 300 ms would otherwise never be snapshotted at all).

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface DebouncerOptions<K> {
  waitMs: number;
  maxWaitMs: number;
  fire: (key: K) => void;
  timers?: Timers;
  now?: () => number;
}

export class KeyedDebouncer<K> {
  readonly #options: DebouncerOptions<K>;
  readonly #timers: Timers;
  readonly #now: () => number;
  readonly #pending = new Map<K, { first: number; handle: unknown }>();

  constructor(options: DebouncerOptions<K>) {
    this.#options = options;
    this.#timers = options.timers ?? realTimers;
    this.#now = options.now ?? Date.now;
  }

  /** `key` changed: (re)arm its timer. */
  touch(key: K): void {
    const now = this.#now();
    const entry = this.#pending.get(key);
    if (entry) this.#timers.clearTimeout(entry.handle);
    const first = entry?.first ?? now;
    const due = Math.min(now + this.#options.waitMs, first + Math.max(this.#options.maxWaitMs, this.#options.waitMs));
    const handle = this.#timers.setTimeout(
      () => {
        this.#pending.delete(key);
        this.#options.fire(key);
      },
      Math.max(0, due - now),
    );
    this.#pending.set(key, { first, handle });
  }

  /** Cancel every timer and return the keys that were waiting, in the order they first changed. */
  flush(): K[] {
    const keys = [...this.#pending.keys()];
    for (const { handle } of this.#pending.values()) this.#timers.clearTimeout(handle);
    this.#pending.clear();
    return keys;
  }

  get size(): number {
    return this.#pending.size;
  }
}
