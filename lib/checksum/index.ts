// checksum: streaming sha256, the coreutils sha256sum file format, verification before use.
// Failures: malformed checksum file, unlisted archive, mismatch, missing file (integrity, exit 3).
export { HashingPassThrough, sha256File, sha256FileShown, sha256Buffer } from './hash-stream.ts';
export { formatChecksumFile, parseChecksumFile, type ChecksumEntry } from './checksum-file.ts';
export { verifyChecksums, assertChecksumsOk, type ChecksumResult } from './verify-checksums.ts';
export {
  buildManifest,
  parseManifest,
  isoSeconds,
  manifestSchema,
  type SegmentIndex,
  type SegmentRecord,
  MANIFEST_FORMAT,
  type BackupManifest,
  type ManifestArchive,
  type ManifestInput,
} from './manifest.ts';
