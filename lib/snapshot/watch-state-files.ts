import { watch as fsWatch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { KeyedDebouncer, realTimers, type Timers } from './debouncer.ts';
import { describeSkippedLink, scanStatePatterns, type StatePatterns, type WatchedDirRole } from './state-patterns.ts';

/** fs.watch, narrowed to what the watcher needs (tests pass one that never fires). */
export type WatchDir = (
  dir: string,
  onEvent: (filename: string | null) => void,
  onError: (error: Error) => void,
) => { close(): void };

export const fsWatchDir: WatchDir = (dir, onEvent, onError) => {
  const watcher = fsWatch(dir, { persistent: true }, (_type, filename) =>
    onEvent(filename === null ? null : String(filename)),
  );
  watcher.on('error', onError);
  return watcher;
};

export interface WatchStateFilesOptions {
  root: string;
  patterns: StatePatterns;
  debounceMs: number;
  /** A file that keeps changing is still handed over at least this often. */
  maxWaitMs: number;
  /** Full re-scan period: catches what fs events missed (network file systems, watch limits). */
  rescanMs: number;
  /** A state file changed and settled (and, once at start, every state file). Calls never overlap. */
  onSettled: (path: string) => Promise<void>;
  /** A problem with watching itself (reported; the periodic re-scan keeps working). */
  onWarning?: (code: string, message: string) => void;
  watch?: WatchDir;
  timers?: Timers;
  now?: () => number;
}

export interface StateWatcher {
  /** Folders being watched (relative to the root; '' is the root). */
  readonly dirs: () => string[];
  /** Stop watching; files that changed but had not settled yet are handed over, then in-flight work finishes. */
  stop(): Promise<void>;
}

interface FileSig {
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
}

/**
 * Watch the state files of `patterns`. Node 20 has no recursive fs.watch on Linux, so each
 * folder on the way to a state file is watched: an event in a leaf folder for a matching name
 * debounces that file; any other event re-scans (a new module folder, `mv state state.hidden`),
 * which adds and drops folder watches. A full re-scan every `rescanMs` compares each file's
 * (inode, size, mtime, ctime) with what it last handed over, as a fallback for lost events.
 * Handed-over files go through one queue: at most one onSettled runs at a time. stop() hands
 * over every file that changed since it was last handed over (settled or not), then drains.
 */
export async function watchStateFiles(options: WatchStateFilesOptions): Promise<StateWatcher> {
  const timers = options.timers ?? realTimers;
  const watchDir = options.watch ?? fsWatchDir;
  const warn = options.onWarning ?? (() => {});
  /** Links already named: each is said once, not at every re-scan. */
  const linksSeen = new Set<string>();
  const watches = new Map<string, { close(): void; ino: number }>();
  let roles = new Map<string, WatchedDirRole>();
  const sigs = new Map<string, FileSig>();
  let stopped = false;
  let stopping: Promise<void> | null = null;
  let watchUnavailable = false;

  // --- the queue: one onSettled at a time, each file at most once in it
  const queued = new Set<string>();
  let draining: Promise<void> | null = null;
  const enqueue = (path: string) => {
    queued.add(path);
    kick();
  };
  function kick(): void {
    draining ??= drain().finally(() => {
      draining = null;
      if (queued.size > 0) kick();
    });
  }
  async function drain(): Promise<void> {
    while (queued.size > 0) {
      const path = queued.values().next().value as string;
      queued.delete(path);
      // Signature before the read: a change during the snapshot shows up at the next re-scan.
      const sig = await signature(posix.join(options.root, path));
      if (sig) sigs.set(path, sig);
      else sigs.delete(path);
      try {
        await options.onSettled(path);
      } catch (error) {
        warn('SNAPSHOT_CALLBACK_FAILED', `${path}: ${(error as Error)?.message ?? String(error)}`);
      }
    }
  }
  const debouncer = new KeyedDebouncer<string>({
    waitMs: options.debounceMs,
    maxWaitMs: options.maxWaitMs,
    fire: enqueue,
    timers,
    ...(options.now ? { now: options.now } : {}),
  });

  // --- scanning: folders to watch, files whose signature changed
  let scanning: Promise<void> | null = null;
  let scanAgain = false;
  function requestScan(initial = false): Promise<void> {
    if (stopped) return Promise.resolve();
    if (scanning) {
      scanAgain = true;
      return scanning;
    }
    const run = rescan(initial);
    scanning = run
      .catch((error: unknown) => {
        if (!initial)
          warn('RESCAN_FAILED', `re-scan of ${options.root} failed: ${(error as Error)?.message ?? String(error)}`);
      })
      .finally(() => {
        scanning = null;
        if (scanAgain) {
          scanAgain = false;
          void requestScan();
        }
      });
    return run;
  }
  async function rescan(initial = false): Promise<void> {
    let scan = await scanStatePatterns(options.root, options.patterns);
    // A file created in a folder after the scan but before that folder's watch existed would
    // be seen by neither: after adding watches, scan again (bounded; folders rarely nest deep).
    for (let round = 0; round < 5 && !stopped; round++) {
      roles = scan.dirs;
      if ((await syncWatches(scan.dirs)) === 0) break;
      scan = await scanStatePatterns(options.root, options.patterns);
    }
    if (stopped) return;
    for (const link of scan.links) {
      const key = `${link.path}\0${link.target}`;
      if (!linksSeen.has(key)) warn('STATE_LINK_SKIPPED', describeSkippedLink(link));
      linksSeen.add(key);
    }
    const present = new Set(scan.files);
    for (const path of sigs.keys()) if (!present.has(path)) sigs.delete(path);
    if (initial) {
      for (const path of scan.files) enqueue(path);
      return;
    }
    for (const [path, sig] of await changedSinceSeen(scan.files)) {
      sigs.set(path, sig); // seen: the next re-scan must not re-arm its debounce unless it changes again
      debouncer.touch(path);
    }
  }

  /** Files whose signature differs from the one last seen by a re-scan or taken at hand-over. */
  async function changedSinceSeen(files: string[]): Promise<[string, FileSig][]> {
    const changed: [string, FileSig][] = [];
    for (const path of files) {
      const now = await signature(posix.join(options.root, path));
      const before = sigs.get(path);
      if (now && (!before || !sameSig(now, before))) changed.push([path, now]);
    }
    return changed;
  }

  /** Drop watches of folders gone or replaced, add the missing ones; how many were added. */
  async function syncWatches(dirs: Map<string, WatchedDirRole>): Promise<number> {
    let added = 0;
    for (const [dir, w] of watches) {
      const info = dirs.has(dir) ? await stat(posix.join(options.root, dir)).catch(() => null) : null;
      if (!info?.isDirectory() || info.ino !== w.ino) {
        w.close();
        watches.delete(dir);
      }
    }
    if (watchUnavailable) return added;
    for (const dir of dirs.keys()) {
      if (watches.has(dir) || stopped) continue;
      const abs = posix.join(options.root, dir);
      const info = await stat(abs).catch(() => null);
      if (!info?.isDirectory() || stopped) continue;
      try {
        const handle = watchDir(
          abs,
          (filename) => onEvent(dir, filename),
          () => {
            watches.get(dir)?.close();
            watches.delete(dir);
            scheduleScanSoon();
          },
        );
        watches.set(dir, { close: () => handle.close(), ino: info.ino });
        added += 1;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOSPC' || code === 'EMFILE') {
          watchUnavailable = true;
          warn(
            'WATCH_LIMIT',
            `cannot watch more folders (${code}: raise fs.inotify.max_user_watches); changes are found by the re-scan every ${options.rescanMs} ms instead`,
          );
          return added;
        }
        if (code !== 'ENOENT') warn('WATCH_FAILED', `cannot watch ${abs}: ${code ?? String(error)}`);
      }
    }
    return added;
  }

  function onEvent(dir: string, filename: string | null): void {
    if (stopped) return;
    const role = roles.get(dir);
    if (filename !== null && role && role.files.some((re) => re.test(filename))) {
      debouncer.touch(dir === '' ? filename : `${dir}/${filename}`);
      return;
    }
    // Not a state file name: a folder may have appeared, vanished or been renamed.
    if (role?.structural || filename === null) scheduleScanSoon();
  }
  let soon: unknown = null;
  function scheduleScanSoon(): void {
    if (soon !== null) timers.clearTimeout(soon);
    soon = timers.setTimeout(() => {
      soon = null;
      void requestScan();
    }, options.debounceMs);
  }

  let periodic: unknown = null;
  function schedulePeriodic(): void {
    if (stopped) return;
    periodic = timers.setTimeout(() => {
      void requestScan();
      schedulePeriodic();
    }, options.rescanMs);
  }

  // Start: watch first, then hand every state file over once (changes since the last run).
  // The initial scan's errors (an unreadable root) are the caller's; later ones are warnings.
  try {
    await requestScan(true);
  } catch (error) {
    await finish();
    throw error;
  }
  schedulePeriodic();

  async function finish(): Promise<void> {
    stopped = true;
    if (periodic !== null) timers.clearTimeout(periodic);
    if (soon !== null) timers.clearTimeout(soon);
    await scanning?.catch(() => {});
    for (const w of watches.values()) w.close();
    watches.clear();
    // Hand over what is still settling, and what changed but whose event has not arrived yet.
    const last = await scanStatePatterns(options.root, options.patterns).catch(() => null);
    const late = last ? (await changedSinceSeen(last.files)).map(([path]) => path) : [];
    for (const path of [...debouncer.flush(), ...late]) enqueue(path);
    while (draining) await draining;
  }

  return {
    dirs: () => [...watches.keys()].sort(),
    stop() {
      stopping ??= finish();
      return stopping;
    },
  };
}

async function signature(abs: string): Promise<FileSig | null> {
  const info = await stat(abs).catch(() => null);
  return info?.isFile() ? { ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs } : null;
}

function sameSig(a: FileSig, b: FileSig): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs;
}
