import { join } from 'node:path';

// <backup-dir>/encrypted/: one `<archive>.gpg` per offsite archive, `SHA256SUMS` of them, and
// `encrypted_manifest.json` (what each .gpg holds). The same names go offsite.

export const SUMS_FILE = 'SHA256SUMS';
export const ENCRYPTED_MANIFEST_FILE = 'encrypted_manifest.json';
export const encryptedDir = (backupDir: string): string => join(backupDir, 'encrypted');
export const encryptedName = (archiveFile: string): string => `${archiveFile}.gpg`;
/** An encrypted archive's name (not a hidden in-progress file). */
export const isEncryptedName = (name: string): boolean => name.endsWith('.gpg') && !name.startsWith('.');
