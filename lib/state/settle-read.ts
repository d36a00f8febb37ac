import { statSync, type Stats } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

// Reading a file that a service may be rewriting in place (Arkalia's ZeroIA: truncate, then
// write, no tmp + rename). A reader can land between the two and see an empty file, which
// parses as TOML, so validation would not catch it. One home for how the backup packer and
// the real-time snapshot tell that moment from a file that holds still.

/** How a file looked when it was read: enough to tell that it changed since. */
export type SeenFile = Pick<Stats, 'ino' | 'size' | 'mtimeMs' | 'ctimeMs' | 'birthtimeMs'>;

/**
 * An empty file modified this recently may be a rewrite between its truncate and its write
 * (on a loaded machine the writer can be descheduled between the two for tens of ms): it is
 * watched until it changes or has been empty this long.
 */
export const FRESH_EMPTY_MS = 1_000;
const POLL_MS = 20;
/** Written this long after it was created: an existing file emptied, not one created empty. */
const EMPTIED_AFTER_BIRTH_MS = 50;

/** Its path now names another file, or the same with another size or time (or nothing). */
export function changedFrom(path: string, seen: SeenFile): boolean {
  let now: Stats;
  try {
    now = statSync(path);
  } catch {
    return true;
  }
  return now.ino !== seen.ino || now.size !== seen.size || now.mtimeMs !== seen.mtimeMs || now.ctimeMs !== seen.ctimeMs;
}

/**
 * Should what was just read (`length` bytes, the file as `seen`) be read again? When the file
 * changed meanwhile; and, for an empty read of a file that existed before it was emptied
 * (born well before its last write: a truncate, not a file just created empty, such as a
 * fresh copy's .gitkeep), when it changes within FRESH_EMPTY_MS of that write (watched until
 * then). A file that holds still is kept as read, torn or not: a writer killed mid-write
 * leaves it so for good.
 */
export async function readAgain(path: string, seen: SeenFile, length: number, now = Date.now): Promise<boolean> {
  if (changedFrom(path, seen)) return true;
  if (length > 0) return false;
  // Where the file system records no birth time (0), every empty file is taken as truncated.
  if (seen.birthtimeMs > 0 && seen.mtimeMs - seen.birthtimeMs < EMPTIED_AFTER_BIRTH_MS) return false;
  while (now() - seen.mtimeMs <= FRESH_EMPTY_MS) {
    await sleep(POLL_MS);
    if (changedFrom(path, seen)) return true;
  }
  return false;
}
