// The backup folder's layout: the name of everything in it (daily folders, archives, checksum
// file, manifest, partial and trash names, encrypted names), compatible with the runbook, and
// the one lister of its daily backups with the one rule for links (never followed). Every
// stage that reads or writes a backup folder takes its names from here; nothing else spells
// `arkalia_<DATE>`.
export {
  backupDirName,
  checksumFileName,
  dailyDir,
  isBackupDate,
  isBackupStamp,
  localDateStamp,
  manifestFileName,
  parseBackupDirName,
  partialName,
  partialOwner,
  partialPrefix,
  pointStamp,
  stampDate,
  stampTime,
  trashName,
  TRASH_NAME,
} from './backup-names.ts';
export {
  ARCHIVE_EXTENSIONS,
  archiveFileName,
  archiveFileNames,
  parseArchiveFileName,
  statesArchiveName,
  type Compression,
} from './archive-names.ts';
export { ENCRYPTED_MANIFEST_FILE, encryptedDir, encryptedName, isEncryptedName, SUMS_FILE } from './encrypted-names.ts';
export { measurePointSpace, type PointSpace } from './point-space.ts';
export { listDailyBackups, type DailyBackup, type DailyListing } from './list-daily-backups.ts';
