import { chmod, lstat, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { indexProblem, type ArchivePlan } from '../archive/index.ts';
import {
  parseChecksumFile,
  parseManifest,
  sha256File,
  sha256Buffer,
  type BackupManifest,
  type ManifestArchive,
  type SegmentIndex,
} from '../checksum/index.ts';
import type { EventSink } from '../events.ts';
import { checksumFileName, listDailyBackups, manifestFileName } from '../layout/index.ts';
import { parseDuration, type Policy } from '../policy/index.ts';
import { linkOrCopy } from '../state/index.ts';
import { fileIdentity, type VerifiedArchives } from './verified-archives.ts';

// "Si modifiés": a point reuses the previous point's archive when nothing in it changed (the
// members' lstat fingerprint is the same), or when the archive is not due yet (its data sets'
// frequency has not elapsed since it was captured). Reused means hard-linked: the same bytes,
// no new space, no new time; a copy where a link is impossible. The previous archive is
// verified against its checksum file first (hashed, or trusted as verified-archives.ts says:
// hashed less than a day ago and unchanged since): a damaged archive is never carried forward.

export interface PreviousPoint {
  stamp: string;
  dir: string;
  manifest: BackupManifest;
  /** name → sha256, from its checksum file. */
  sums: Map<string, string>;
}

/**
 * The newest published point written before `stamp`, with a manifest and checksum file that
 * parse; null when there is none (then every archive is written).
 */
export async function readPreviousPoint(backupDir: string, stamp: string): Promise<PreviousPoint | null> {
  const previous = (await listDailyBackups(backupDir)).backups.find((b) => b.date < stamp);
  if (!previous) return null;
  try {
    const manifest = parseManifest(await readFile(join(previous.dir, manifestFileName(previous.date)), 'utf8'));
    const checksumFile = checksumFileName(previous.date);
    const sums = parseChecksumFile(await readFile(join(previous.dir, checksumFile), 'utf8'), checksumFile);
    return { stamp: previous.date, dir: previous.dir, manifest, sums: new Map(sums.map((e) => [e.name, e.sha256])) };
  } catch {
    return null; // a point we cannot read is no base: the archives are written afresh
  }
}

/** What goes into the point's fingerprint besides the members: how the archive is written. */
export function archiveFingerprint(plan: ArchivePlan, members: string, sensitive: boolean): string {
  const level = plan.compression === 'gzip' ? plan.gzipLevel : plan.compression === 'zstd' ? plan.zstdLevel : 0;
  return sha256Buffer(`${members}\0${plan.compression}:${level}\0${sensitive ? 'sensitive' : 'open'}`);
}

/** The most frequent of an archive's data sets, in ms (0: real time, due at every point). */
export function archiveFrequencyMs(policy: Policy, archive: string): number {
  const periods = Object.values(policy.datasets)
    .filter((d) => d.archive === archive)
    .map((d) => (d.frequency === 'realtime' ? 0 : parseDuration(d.frequency)));
  return periods.length === 0 ? 0 : Math.min(...periods);
}

/**
 * Due when its frequency has elapsed since it was captured. A scheduled run comes a little
 * early or late (the systemd timers add up to 5 minutes of random delay): a sixth of the
 * frequency, at most 10 minutes, counts as elapsed.
 */
export function isDue(frequencyMs: number, capturedAt: string | undefined, now: Date): boolean {
  if (frequencyMs === 0 || capturedAt === undefined) return true;
  const captured = Date.parse(capturedAt);
  if (Number.isNaN(captured)) return true;
  const slack = Math.min(10 * 60_000, frequencyMs / 6);
  return now.getTime() - captured >= frequencyMs - slack;
}

export type ArchiveChoice =
  | {
      action: 'write';
      why: 'first' | 'changed' | 'previous-damaged';
      /** The previous archive (verified) and its runs: the runs that did not change are copied from it (archive/segments.ts). */
      base?: { file: string; index: SegmentIndex };
    }
  | {
      action: 'reuse';
      /** The previous point's entry and file. */
      entry: ManifestArchive;
      file: string;
      /** True when the data changed but is not due yet: the point keeps the older capture. */
      carried: boolean;
    };

export interface ChooseArchiveInput {
  plan: ArchivePlan;
  fingerprint: string;
  due: boolean;
  previous: PreviousPoint | null;
  sink: EventSink;
  /** What was hashed when (see verified-archives.ts); the verification of the previous archive is recorded there. */
  verified: VerifiedArchives;
  now: Date;
}

/** Reuse the previous point's archive, or write a new one (see the file comment). */
export async function chooseArchive(input: ChooseArchiveInput): Promise<ArchiveChoice> {
  const { plan, previous } = input;
  const entry = previous?.manifest.archives?.find((a) => a.name === plan.name);
  if (!previous || !entry?.fingerprint || !entry.captured_at) return { action: 'write', why: 'first' };
  const same = entry.fingerprint === input.fingerprint;
  const file = join(previous.dir, entry.file);
  if (!same && input.due) {
    // Written again: in runs, copying those that did not change, if the previous one can be trusted.
    if (!entry.segments || plan.compression !== 'gzip') return { action: 'write', why: 'changed' };
    const problem =
      (await damage(file, entry, previous.sums.get(entry.file), input.verified, input.now)) ??
      (await indexProblem(file, entry.segments));
    if (problem === null) return { action: 'write', why: 'changed', base: { file, index: entry.segments } };
    input.sink({
      kind: 'warning',
      code: 'PREVIOUS_ARCHIVE_DAMAGED',
      message: `${entry.file} of arkalia_${previous.stamp} ${problem}: none of it is reused, ${plan.name} is archived in full (run verify.mts on that point)`,
      path: file,
    });
    return { action: 'write', why: 'changed' };
  }
  const problem = await damage(file, entry, previous.sums.get(entry.file), input.verified, input.now);
  if (problem !== null) {
    input.sink({
      kind: 'warning',
      code: 'PREVIOUS_ARCHIVE_DAMAGED',
      message: `${entry.file} of arkalia_${previous.stamp} ${problem}: not reused, ${plan.name} is archived again (run verify.mts on that point)`,
      path: file,
    });
    return { action: 'write', why: 'previous-damaged' };
  }
  return { action: 'reuse', entry, file, carried: !same };
}

/**
 * Why the previous archive cannot be trusted, or null: a regular file whose sha256 is what both
 * its checksum file and manifest say (hashed now, or less than a day ago and unchanged since).
 */
async function damage(
  file: string,
  entry: ManifestArchive,
  listed: string | undefined,
  verified: VerifiedArchives,
  now: Date,
): Promise<string | null> {
  if (listed === undefined) return `is not listed in its checksum file`;
  if (listed !== entry.sha256) return `has a checksum file and a manifest that disagree`;
  const info = await lstat(file).catch(() => null);
  if (!info?.isFile()) return info ? 'is not a regular file' : 'is missing';
  const id = await fileIdentity(file);
  if (verified.trusted(id, now) === listed) return null;
  const { sha256 } = await sha256File(file);
  if (sha256 !== listed) return `does not match its checksum (sha256 ${sha256.slice(0, 16)}…)`;
  verified.record(id, sha256, now);
  return null;
}

/**
 * Put the previous point's verified archive into the new point: a hard link (same inode),
 * or a copy (verified) where the file system refuses links, said once per archive.
 */
export async function placeReused(
  source: string,
  target: string,
  expected: { sha256: string; sensitive: boolean },
  sink: EventSink,
  verified?: VerifiedArchives,
): Promise<'link' | 'copy'> {
  const before = await fileIdentity(source);
  const how = await linkOrCopy(source, target);
  if (how === 'link') {
    // The link changed the inode's ctime: still the bytes hashed at that time, if nothing else moved.
    const after = await fileIdentity(target);
    const hashedAt = verified?.hashedAt(before);
    if (hashedAt && after.size === before.size && after.mtimeNs === before.mtimeNs)
      verified!.record(after, expected.sha256, hashedAt);
    return how;
  }
  await chmod(target, expected.sensitive ? 0o600 : 0o644);
  const { sha256 } = await sha256File(target);
  if (sha256 !== expected.sha256) {
    await rm(target, { force: true });
    throw new Error(`the copy of ${source} does not match its checksum (sha256 ${sha256.slice(0, 16)}…)`);
  }
  verified?.record(await fileIdentity(target), sha256, new Date());
  sink({
    kind: 'warning',
    code: 'ARCHIVE_COPIED',
    message: `cannot hard-link ${source} into the new point (another file system?): copied instead, which uses space`,
    path: target,
  });
  return how;
}

export interface ReusedArchive {
  archive: string;
  file: string;
  /** The point it was taken from. */
  from: string;
  how: 'link' | 'copy';
  carried: boolean;
}

/**
 * Put a chosen archive into the new point under the point's name (`<prefix>_<stamp>` and the
 * extension it was written with), carry the invalid states it holds, say so, and return its
 * manifest entry: current as of this point when unchanged, its older capture when carried.
 */
export async function reuseArchive(input: {
  plan: ArchivePlan;
  choice: Extract<ArchiveChoice, { action: 'reuse' }>;
  previous: PreviousPoint;
  stamp: string;
  partial: string;
  capturedAt: string;
  fingerprint: string;
  verified: VerifiedArchives;
  invalidStates: { path: string; reason: string; archive: string }[];
  sink: EventSink;
}): Promise<{ entry: ManifestArchive; report: ReusedArchive }> {
  const { plan, choice, previous, sink } = input;
  const file = `${plan.prefix}_${input.stamp}${extensionOf(choice.entry.file)}`;
  const how = await placeReused(choice.file, join(input.partial, file), choice.entry, sink, input.verified);
  input.verified.keepKnownValidToml();
  for (const invalid of previous.manifest.invalid_states ?? []) {
    if (invalid.archive !== plan.name) continue;
    input.invalidStates.push({ path: invalid.path, reason: invalid.reason, archive: plan.name });
    sink({ kind: 'invalid-state', path: invalid.path, reason: invalid.reason, known: true }); // the same bytes, reported when archived
  }
  const capturedAt = choice.carried ? choice.entry.captured_at! : input.capturedAt;
  sink({
    kind: 'archive-reused',
    archive: plan.name,
    file,
    from: choice.entry.file,
    how,
    carried: choice.carried,
    capturedAt,
  });
  return {
    entry: {
      ...choice.entry,
      file,
      captured_at: capturedAt,
      fingerprint: choice.carried ? choice.entry.fingerprint! : input.fingerprint,
      reused_from: previous.stamp,
      reuse: how,
    },
    report: { archive: plan.name, file, from: previous.stamp, how, carried: choice.carried },
  };
}

/** `.tar.gz`, `.tar.zst` or `.tar`: a reused archive keeps the compression it was written with. */
function extensionOf(file: string): string {
  return /\.tar(?:\.gz|\.zst)?$/.exec(file)?.[0] ?? '.tar.gz';
}
