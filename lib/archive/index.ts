// archive: streaming tar create (hashed while written; gzip on both cores that GNU tar reads,
// zstd via its binary, or plain tar) and list/extract that refuses unsafe entries.
// Failures: unreadable input, missing zstd, truncated/corrupt archive (exit 3).
export { planArchives, type ArchivePlan } from './plan-archives.ts';
export {
  createArchive,
  type CreateArchiveOptions,
  type ArchiveResult,
  type ArchiveProgress,
  type Compression,
} from './create-archive.ts';
export { measurePlan, type PlanSize } from './measure-plan.ts';
export { comparePaths, indexProblem, runsHolding } from './read-runs.ts';
export { indexMatches, planSegments, type PlannedMember, type PlannedSegment } from './segments.ts';
export { isInFlightTemp } from './pack-live-files.ts';
export { hasGnuTar, resolveTarProducer, type TarChoice, type TarProducerKind } from './tar-producer.ts';
export { assertZstdAvailable, zstdVersion } from './zstd-stream.ts';
export { ParallelGzip } from './parallel-gzip.ts';
export {
  extractArchive,
  listArchive,
  memberPath,
  refusalReason,
  type ArchiveMember,
  type ExtractedFile,
  type ExtractOptions,
  type Refusal,
} from './extract-archive.ts';
// Extraction caps (restore side): bytes, entries and compression ratio per restore.
export {
  ExtractBudget,
  DEFAULT_EXTRACT_LIMITS,
  RATIO_GRACE_BYTES,
  formatSize,
  parseSize,
  type ExtractLimits,
} from './extract-limits.ts';
export { openArchiveStream } from './open-archive-stream.ts';
