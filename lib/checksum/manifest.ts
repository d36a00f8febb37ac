import { z } from 'zod';
import { IntegrityError } from '../errors.ts';

// backup_manifest_<STAMP>.json: the runbook's fields (kept so existing tooling still reads
// it) plus what a restore and an auditor need: every archive with its sha256, size, member
// count, recovery point and fingerprint (what lets the next point reuse it), and the state
// files that were archived although they do not parse.

export const MANIFEST_FORMAT = 'arkalia-dr/1';

// An archive's runs (lib/archive/segments.ts): what lets the next point copy the runs that did not change.
const segmentRecordSchema = z.object({
  /** sha256 of the members' fingerprint lines; "" for a run that cannot be reused (a member changed while it was read, or the end of the archive). */
  digest: z.string(),
  members: z.number().int().nonnegative(),
  tar_bytes: z.number().int().nonnegative(),
  gz_offset: z.number().int().nonnegative(),
  gz_bytes: z.number().int().nonnegative(),
  /** CRC-32 of the run's tar bytes. */
  crc32: z.number().int().nonnegative(),
});
export type SegmentRecord = z.infer<typeof segmentRecordSchema>;

const segmentIndexSchema = z.object({
  /** The gzip level the runs were deflated at: a run is copied only into an archive of the same level. */
  level: z.number().int(),
  runs: z.array(segmentRecordSchema),
  /** The members are in path order ("/" first: lib/archive/read-runs.ts), so one folder's lie together: a restore of it reads only their runs. */
  sorted: z.boolean().optional(),
});
export type SegmentIndex = z.infer<typeof segmentIndexSchema>;

const archiveEntry = z.object({
  name: z.string(),
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size_bytes: z.number().int().nonnegative(),
  members: z.number().int().nonnegative(),
  /** Uncompressed (tar) bytes: what extracting it takes on disk, at most (absent from older manifests). */
  tar_bytes: z.number().int().nonnegative().optional(),
  sensitive: z.boolean(),
  /** When this archive's content was last confirmed to be the live data: its recovery point. */
  captured_at: z.string().optional(),
  /** measurePlan's fingerprint of the members when they were read (see lib/archive/measure-plan.ts). */
  fingerprint: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** Reused from an earlier point (the same bytes): its stamp, and whether the file is a hard link or a copy. */
  reused_from: z.string().optional(),
  reuse: z.enum(['link', 'copy']).optional(),
  /** Its runs (lib/archive/segments.ts), when written in runs. */
  segments: segmentIndexSchema.optional(),
});

/** Runbook fields are required; ours are optional so that runbook-written manifests parse. */
export const manifestSchema = z.object({
  backup_date: z.string(),
  arkalia_version: z.string().nullable(),
  backup_size_mb: z.number(),
  files_count: z.number().int(),
  git_commit: z.string().nullable(),
  host: z.string(),
  backup_type: z.string(),
  format: z.literal(MANIFEST_FORMAT).optional(),
  date: z
    .string()
    .regex(/^\d{8}(?:_\d{4})?$/)
    .optional(),
  archives: z.array(archiveEntry).optional(),
  invalid_states: z
    .array(z.object({ path: z.string(), reason: z.string(), archive: z.string().optional() }))
    .optional(),
  skipped: z.array(z.object({ archive: z.string(), path: z.string(), reason: z.string() })).optional(),
  tool: z.string().optional(),
});

export type BackupManifest = z.infer<typeof manifestSchema>;
export type ManifestArchive = z.infer<typeof archiveEntry>;

export interface ManifestInput {
  date: string;
  now: Date;
  arkaliaVersion: string | null;
  gitCommit: string | null;
  host: string;
  archives: ManifestArchive[];
  /** Bytes of every other file in the backup folder (the checksum file). */
  otherBytes: number;
  otherFiles: number;
  invalidStates: { path: string; reason: string; archive?: string }[];
  skipped: { archive: string; path: string; reason: string }[];
  tool: string;
  /** 'full_daily' (the runbook's, default) or 'full_point' for a later point of the day. */
  backupType?: string;
}

/** Pure: the manifest for a backup. Sizes as `du -sm` would round them (up, in MiB). */
export function buildManifest(input: ManifestInput): BackupManifest {
  const bytes = input.archives.reduce((sum, a) => sum + a.size_bytes, 0) + input.otherBytes;
  return {
    backup_date: isoSeconds(input.now),
    arkalia_version: input.arkaliaVersion,
    backup_size_mb: Math.max(1, Math.ceil(bytes / (1024 * 1024))),
    files_count: input.archives.length + input.otherFiles + 1, // + the manifest itself
    git_commit: input.gitCommit,
    host: input.host,
    backup_type: input.backupType ?? 'full_daily',
    format: MANIFEST_FORMAT,
    date: input.date,
    archives: input.archives,
    invalid_states: input.invalidStates,
    skipped: input.skipped,
    tool: input.tool,
  };
}

export function parseManifest(text: string, fileName = 'manifest'): BackupManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new IntegrityError('MANIFEST_INVALID', `${fileName} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw new IntegrityError('MANIFEST_INVALID', `${fileName}: ${first.path.join('.')}: ${first.message}`);
  }
  return parsed.data;
}

/** `date -Iseconds` format: local time with its offset, e.g. 2026-11-26T03:00:00+00:00. */
export function isoSeconds(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const pad = (n: number) => String(Math.abs(n)).padStart(2, '0');
  const local = new Date(date.getTime() + offset * 60_000).toISOString().slice(0, 19);
  return `${local}${sign}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
}
