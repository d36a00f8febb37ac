import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseChecksumFile, parseManifest, type BackupManifest } from '../checksum/index.ts';
import { checksumFileName, listDailyBackups, manifestFileName, stampTime } from '../layout/index.ts';
import { readVerifications, type VerificationRecord } from '../verify/index.ts';

// `ark list` (restic's `snapshots`, borg's `list`): every backup point of a backup folder,
// newest first, from what is on disk — its archives and their sizes, what the point added
// (bytes of files no older point links), its recovery point from the manifest, and its last
// full verification (verify --daily's record). Reads only; never hashes: that is verify's job.

export interface ListedArchive {
  file: string;
  bytes: number | null;
  /** When its content was last confirmed to be the live data (manifest), if recorded. */
  captured_at: string | null;
  /** The earlier point this file is a hard link (or copy) of, if reused. */
  reused_from: string | null;
}

export interface ListedBackup {
  name: string;
  stamp: string;
  /** When the stamp says it was taken, local time: YYYY-MM-DD for the day's first point, YYYY-MM-DDTHH:MM for a later one. */
  taken: string;
  kind: 'daily' | 'point';
  dir: string;
  archives: ListedArchive[];
  /** Sum of the archives' sizes (what a copy of this point alone would take). */
  bytes: number;
  /** Bytes of the files no older point shares: what this point added on disk. */
  new_bytes: number;
  /** The newest `captured_at` of its archives: the moment it was made for (null: not recorded). */
  recovery_point: string | null;
  /** Its checksum file and manifest are both there and readable. */
  complete: boolean;
  problems: string[];
  last_verified: VerificationRecord | null;
}

export interface BackupListing {
  backup_dir: string;
  backups: ListedBackup[];
  /** Named like a backup but not a folder (a symlink): left alone, as every command does. */
  ignored: { name: string; reason: string }[];
}

export async function listBackups(backupDir: string): Promise<BackupListing> {
  const listing = await listDailyBackups(backupDir);
  const verifications = await readVerifications(backupDir);
  const backups: ListedBackup[] = [];
  for (const backup of listing.backups)
    backups.push(await describe(backup.name, backup.date, backup.dir, verifications));
  // What each point added: inodes no older point holds (oldest first, so each is counted where it first appears).
  const seen = new Set<bigint>();
  for (const entry of [...backups].reverse()) {
    let added = 0;
    for (const archive of entry.archives) {
      const info = await lstat(join(entry.dir, archive.file), { bigint: true }).catch(() => null);
      if (!info?.isFile() || seen.has(info.ino)) continue;
      seen.add(info.ino);
      added += Number(info.size);
    }
    entry.new_bytes = added;
  }
  return { backup_dir: backupDir, backups, ignored: listing.ignored };
}

async function describe(
  name: string,
  stamp: string,
  dir: string,
  verifications: Map<string, VerificationRecord>,
): Promise<ListedBackup> {
  const problems: string[] = [];
  const sumsText = await readFile(join(dir, checksumFileName(stamp)), 'utf8').catch(() => null);
  if (sumsText === null) problems.push(`no ${checksumFileName(stamp)}`);
  let manifest: BackupManifest | null = null;
  const manifestText = await readFile(join(dir, manifestFileName(stamp)), 'utf8').catch(() => null);
  if (manifestText === null) problems.push(`no ${manifestFileName(stamp)}`);
  else
    try {
      manifest = parseManifest(manifestText, manifestFileName(stamp));
    } catch (error) {
      problems.push((error as Error).message);
    }
  let listed: string[] = [];
  if (sumsText !== null)
    try {
      listed = parseChecksumFile(sumsText, checksumFileName(stamp)).map((e) => e.name);
    } catch (error) {
      problems.push((error as Error).message);
    }
  const fromManifest = new Map((manifest?.archives ?? []).map((a) => [a.file, a]));
  const files = [...new Set([...listed, ...fromManifest.keys()])].sort();
  const archives: ListedArchive[] = [];
  for (const file of files) {
    const info = await lstat(join(dir, file)).catch(() => null);
    if (!info?.isFile()) problems.push(`${file} is missing`);
    const entry = fromManifest.get(file);
    archives.push({
      file,
      bytes: info?.isFile() ? info.size : null,
      captured_at: entry?.captured_at ?? null,
      reused_from: entry?.reused_from ?? null,
    });
  }
  const captures = archives.map((a) => a.captured_at).filter((c): c is string => c !== null);
  return {
    name,
    stamp,
    taken: localIso(stampTime(stamp), stamp.includes('_')),
    kind: stamp.includes('_') ? 'point' : 'daily',
    dir,
    archives,
    bytes: archives.reduce((sum, a) => sum + (a.bytes ?? 0), 0),
    new_bytes: 0,
    recovery_point: captures.length > 0 ? captures.sort().at(-1)! : null,
    complete: sumsText !== null && manifest !== null,
    problems,
    last_verified: verifications.get(name) ?? null,
  };
}

function localIso(date: Date, withTime: boolean): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return withTime ? `${day}T${pad(date.getHours())}:${pad(date.getMinutes())}` : day;
}
