// restore-source: where a disk recovery gets a backup when everything local is gone — the
// offsite copy. Read what the offsite vouches for (listing, SHA256SUMS, encrypted_manifest.json)
// -> plan its backup sets newest first, with what is wrong with each before any download ->
// pick the keys that open a set (a wrong key fails at once, before downloading) -> download
// each file to a hidden temp file, kept only when it matches SHA256SUMS -> decrypt streaming,
// kept only when the plaintext matches the manifest -> rebuild <backup-dir>/daily/arkalia_<DATE>/
// in a hidden partial folder, renamed into place when complete -> hand it to the restore
// pipeline as a daily backup -> place the restored tree so the root is complete or untouched.
// Failures: a missing or corrupt offsite object (the set is rejected, named, and an older set
// tried), a wrong key or passphrase (exit 2 at once), an offsite that vouches for nothing.
export {
  planOffsiteSets,
  classify,
  type OffsiteSet,
  type OffsiteFile,
  type SetProblem,
  type PlanOffsiteSetsInput,
} from './plan-offsite-sets.ts';
export { readOffsiteIndex, offsitePath, type OffsiteIndex } from './read-offsite-index.ts';
export { decryptionKeys, type DecryptionKeys, type KeySources } from './decryption-keys.ts';
export { fetchVerified, type FetchRecord } from './fetch-verified.ts';
export { scanArchive, type ArchiveScan } from './scan-archive.ts';
export {
  rebuildBackup,
  type RebuildOptions,
  type RebuiltBackup,
  type RebuiltArchive,
  type DecryptRecord,
} from './rebuild-backup.ts';
export { rebuiltCandidate } from './rebuilt-candidate.ts';
export {
  allRejected,
  chooseSets,
  isSetDefect,
  problemError,
  withRejections,
  type SetRejection,
} from './choose-offsite-sets.ts';
export { planPlacement, createBuild, renameIntoPlace, discardBuild, type Placement } from './place-root.ts';
export { guardRecoveryFolders } from './guard-recovery-folders.ts';
export { cloneRepository, layRepository, type ClonedRepository } from './clone-repository.ts';
