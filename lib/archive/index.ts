// archive: streaming tar.gz create (hashed while written, GNU-tar compatible) and list/extract
// that refuses unsafe entries. Failures: unreadable input, truncated/corrupt archive (exit 3).
export { planArchives, type ArchivePlan } from './plan-archives.ts';
export { createArchive, type CreateArchiveOptions, type ArchiveResult } from './create-archive.ts';
export { extractArchive, listArchive, memberPath, refusalReason, type ArchiveMember, type ExtractOptions, type Refusal } from './extract-archive.ts';
