import { readFileSync } from 'node:fs';
import { stat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ArkError } from '../errors.ts';

// Free space, per file system, before a step that fills one: the error says how much is
// needed, for what, how much is free, and on which mount — before anything is written.

export interface SpaceOnDisk {
  /** The mount point holding the path (from /proc/self/mountinfo), or the path itself when unknown. */
  mount: string;
  dev: number;
  /** Bytes an unprivileged writer may still use (f_bavail). */
  freeBytes: number;
}

export interface SpaceNeed {
  /** A path on the file system that must hold `bytes` (it need not exist yet: its nearest ancestor is looked at). */
  path: string;
  bytes: number;
  what: string;
}

/** The file system of `path` (or of its nearest existing ancestor). */
export async function spaceAt(path: string): Promise<SpaceOnDisk> {
  let at = resolve(path);
  for (;;) {
    const info = await stat(at).catch(() => null);
    if (info) {
      const fs = await statfs(at);
      return { mount: mountPointOf(at), dev: info.dev, freeBytes: fs.bavail * fs.bsize };
    }
    if (dirname(at) === at) throw new Error(`no existing folder above ${path}`);
    at = dirname(at);
  }
}

/**
 * Throw IO_NO_SPACE (exit 1) when a file system cannot hold what the needs on it add up to,
 * plus `marginBytes` each; `changed` ends the message (what the run had done so far).
 */
export async function assertSpace(
  needs: readonly SpaceNeed[],
  options: { changed: string; marginBytes?: number },
): Promise<void> {
  const margin = options.marginBytes ?? 4 * 1024 * 1024;
  const byDev = new Map<number, { space: SpaceOnDisk; bytes: number; what: string[] }>();
  for (const need of needs) {
    if (need.bytes <= 0) continue;
    const space = await spaceAt(need.path);
    const entry = byDev.get(space.dev) ?? { space, bytes: 0, what: [] };
    entry.bytes += need.bytes;
    entry.what.push(`${need.what} (${formatBytes(need.bytes)})`);
    byDev.set(space.dev, entry);
  }
  const short = [...byDev.values()].filter((e) => e.space.freeBytes < e.bytes + margin);
  if (short.length === 0) return;
  const lines = short.map(
    (e) =>
      `the file system mounted at ${e.space.mount} needs ${formatBytes(e.bytes + margin)} (${e.what.join(' + ')}, plus ${formatBytes(margin)} to spare) and has ${formatBytes(e.space.freeBytes)} free`,
  );
  throw new ArkError(
    'IO_NO_SPACE',
    `not enough space: no space left for this step: ${lines.join('; ')}. ${options.changed} Free space there, then run the same command again.`,
    {
      details: {
        space: short.map((e) => ({
          mount: e.space.mount,
          needed_bytes: e.bytes + margin,
          free_bytes: e.space.freeBytes,
        })),
      },
    },
  );
}

/** "12.3 MiB": sizes in messages, in powers of 1024 (the scripts' output uses it too). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** The longest mount point that holds `path` (Linux: /proc/self/mountinfo); the path itself elsewhere. */
function mountPointOf(path: string): string {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return path;
  }
  let best = '/';
  for (const line of text.split('\n')) {
    const mount = line
      .split(' ')[4]
      ?.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    if (!mount) continue;
    if ((path === mount || path.startsWith(mount.endsWith('/') ? mount : `${mount}/`)) && mount.length > best.length)
      best = mount;
  }
  return best;
}
