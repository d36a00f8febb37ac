import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import type { PlannedMember } from './segments.ts';

export interface PlanSize {
  /** The tar stream's size as GNU tar would write it (headers and padding included), roughly. */
  tarBytes: number;
  /** Regular files. */
  files: number;
  /** Members of every kind (files, folders, links). */
  entries: number;
  /**
   * sha256 of every member's path, type, size, mode, mtime, ctime and inode (and a link's
   * target), in a fixed order: two plans with the same fingerprint would archive the same
   * bytes, as restic decides a file is unchanged without reading it. A file rewritten in
   * place changes its ctime even when its mtime is set back, so nothing changed goes unseen.
   */
  fingerprint: string;
  /** The regular files, relative to cwd (what the walk found; links are never followed). */
  paths: string[];
  /** Every member in the packer's order, with what lstat said (see segments.ts). */
  members: PlannedMember[];
  /** False when a path was missing or a folder unreadable: then the archive is packed by walking again (which reports it), never from `members`. */
  complete: boolean;
}

const BLOCK = 512;

/**
 * What an archive of `paths` under `cwd` will hold, from lstat alone (no file is read), so
 * progress can show a percentage and an ETA, and so an unchanged archive can be reused (see
 * `fingerprint`). Sizes are an estimate: files may change before they are read, and long
 * names add headers. Unreadable folders count as empty (the archive reports them).
 * Synchronous on purpose: nothing else runs while a backup is planned, and 17k lstat calls
 * take ~60 ms this way against ~470 ms as thread-pool round trips.
 */
export async function measurePlan(cwd: string, paths: readonly string[]): Promise<PlanSize> {
  const size = { tarBytes: 2 * BLOCK * 10, files: 0, entries: 0 };
  const files: string[] = [];
  const members: PlannedMember[] = [];
  let complete = true;
  const hash = createHash('sha256');
  const visit = (path: string, member: string, given?: string): void => {
    let info: BigIntStats;
    try {
      info = lstatSync(path, { bigint: true });
    } catch {
      hash.update(`${member}\0missing\n`);
      complete = false;
      return;
    }
    size.entries += 1;
    size.tarBytes += BLOCK;
    const link = info.isSymbolicLink() ? readlinkOrNull(path) : '';
    // join: one flat string (a template literal leaves a tree of concatenations, ~3x the memory for 17k members).
    const rest = [info.mode, info.size, info.mtimeNs, info.ctimeNs, info.ino, `${info.uid}:${info.gid}`, link].join(
      '\0',
    );
    hash.update(`${member}\0${rest}\n`);
    members.push({
      name: member,
      kind: info.isFile() ? 'file' : info.isDirectory() ? 'dir' : 'other',
      size: Number(info.size),
      rest,
      ...(given === undefined ? {} : { given }),
    });
    if (info.isFile()) {
      size.files += 1;
      files.push(member);
      size.tarBytes += Math.ceil(Number(info.size) / BLOCK) * BLOCK;
    } else if (info.isDirectory()) {
      let names: string[];
      try {
        names = readdirSync(path).sort();
      } catch {
        hash.update(`${member}\0unreadable\n`);
        complete = false;
        return;
      }
      for (const name of names) visit(join(path, name), [member, name].join('/')); // flat strings, as for rest
    }
  };
  for (const path of paths) visit(join(cwd, path), path.replace(/\/+$/, ''), path);
  return { ...size, fingerprint: hash.digest('hex'), paths: files, members, complete };
}

function readlinkOrNull(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '\0unreadable';
  }
}
