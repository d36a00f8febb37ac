// The archives of a recovery point: `<prefix>_<STAMP>.tar.gz` (the runbook's names; .tar.zst
// or .tar with another compression), e.g. arkalia_states_20261125.tar.gz, or
// arkalia_states_20261125_1300.tar.gz for a later point of that day.

export type Compression = 'gzip' | 'zstd' | 'none';

/** File name endings by compression; readers (checksums, restore, encryption) accept all three. */
export const ARCHIVE_EXTENSIONS: Readonly<Record<Compression, string>> = Object.freeze({
  gzip: '.tar.gz',
  zstd: '.tar.zst',
  none: '.tar',
});

/** `<prefix>_<YYYYMMDD>.tar.gz` (or .tar.zst / .tar). */
export function archiveFileName(prefix: string, date: string, compression: Compression = 'gzip'): string {
  return `${prefix}_${date}${ARCHIVE_EXTENSIONS[compression]}`;
}

/**
 * Every name an archive of `prefix` may have, whatever compression wrote it (the policy may
 * have changed since): `.tar.gz` first, then `preferred`'s, then the others.
 */
export function archiveFileNames(prefix: string, date: string, preferred: Compression = 'gzip'): string[] {
  return [...new Set<Compression>(['gzip', preferred, 'zstd', 'none'])].map((c) => archiveFileName(prefix, date, c));
}

/** The states archive under its default (gzip) name. */
export const statesArchiveName = (date: string): string => archiveFileName('arkalia_states', date);

/** `{ date, extension }` when `name` is an archive of `prefix` (any compression), else null. */
export function parseArchiveFileName(prefix: string, name: string): { date: string; extension: string } | null {
  const m = new RegExp(
    `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}_(\\d{8}(?:_\\d{4})?)(\\.tar(?:\\.gz|\\.zst)?)$`,
  ).exec(name);
  return m ? { date: m[1]!, extension: m[2]! } : null;
}
