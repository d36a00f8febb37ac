import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { extractArchive, listArchive, type Refusal } from '../archive/index.ts';
import { assertChecksumsOk, sha256Buffer, verifyChecksums } from '../checksum/index.ts';
import { IntegrityError, isArkError, NotFoundError, type ArkError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { validateToml } from '../state/index.ts';
import type { BackupRef } from './find-backups.ts';

export interface StagedFile {
  /** Path relative to the module's state folder. */
  name: string;
  sha256: string;
}

export interface StagedState {
  /** Folder holding the backup's copy of modules/<module>/state/ (contents only). */
  dir: string;
  files: StagedFile[];
  refused: Refusal[];
  /** Remove the staging folder (idempotent). */
  discard(): Promise<void>;
}

export const moduleStatePrefix = (module: string): string => `modules/${module}/state/`;

/**
 * Verify the states archive against the backup's checksum file BEFORE reading it, read it
 * through once (corrupt → exit 3, module absent → exit 1, nothing written yet), extract only
 * modules/<module>/state/ into `stagingRoot`, and validate every TOML file there. Nothing live
 * is touched; on failure the staging folder is removed.
 */
export async function stageModuleState(options: { backup: BackupRef; module: string; stagingRoot: string; sink: EventSink }): Promise<StagedState> {
  const { backup, module, sink } = options;
  await stat(backup.statesArchive).catch(() => {
    throw new NotFoundError('STATES_ARCHIVE_MISSING', `${backup.dir} has no ${basename(backup.statesArchive)}`);
  });
  const results = await verifyChecksums(backup.checksumFile, { only: [basename(backup.statesArchive)] }).catch((error: unknown) => {
    throw isArkError(error) && error.code === 'CHECKSUM_FILE_MISSING' ? unverifiable(backup, error) : error;
  });
  assertChecksumsOk(results, backup.checksumFile);
  sink({ kind: 'checksum-verified', file: backup.statesArchive, sha256: results[0]!.expected });

  // Read the whole archive once before writing anything: a corrupt or truncated archive (even
  // one whose checksum was recomputed) fails here, and a module it lacks is known up front.
  const prefix = moduleStatePrefix(module);
  const members = await listArchive(backup.statesArchive);
  if (!members.some((m) => m.path.startsWith(prefix) && m.path !== prefix)) throw notInBackup(backup, module);

  await mkdir(options.stagingRoot, { recursive: true, mode: 0o700 });
  const discard = () => rm(options.stagingRoot, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  try {
    const { refused } = await extractArchive({
      file: backup.statesArchive,
      cwd: options.stagingRoot,
      select: (path) => path.startsWith(prefix),
      onRefused: (r) => sink({ kind: 'entry-refused', entry: r.entry, reason: r.reason }),
    });
    const dir = join(options.stagingRoot, prefix);
    const files = await listFiles(dir).catch(() => [] as string[]);
    if (files.length === 0) throw notInBackup(backup, module);
    const staged: StagedFile[] = [];
    const invalid: string[] = [];
    for (const name of files) {
      const content = await readFile(join(dir, name));
      if (name.endsWith('.toml')) {
        const check = validateToml(content);
        if (!check.ok) invalid.push(`${prefix}${name}: ${check.reason}`);
      }
      staged.push({ name, sha256: sha256Buffer(content) });
    }
    if (invalid.length > 0) {
      throw new IntegrityError('BACKUP_STATE_INVALID', `the backup's state is not valid TOML, refusing to restore it:\n  ${invalid.join('\n  ')}`);
    }
    return { dir, files: staged, refused, discard };
  } catch (error) {
    await discard().catch(() => {}); // the reason the staging failed is what matters
    throw error;
  }
}

function notInBackup(backup: BackupRef, module: string): NotFoundError {
  const prefix = moduleStatePrefix(module);
  return new NotFoundError('MODULE_NOT_IN_BACKUP', `backup ${basename(backup.dir)} holds no state for module "${module}" (no ${prefix} in ${basename(backup.statesArchive)})`);
}

/** Regular files under `dir`, relative, sorted. */
export async function listFiles(dir: string, base = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/**
 * A backup whose checksum file is gone is an integrity problem (exit 3), not a missing
 * backup (exit 1): the archive is there, but nothing vouches for it, and an archive nobody
 * vouches for is never extracted (a partial copy or tampering look exactly like this).
 */
function unverifiable(backup: BackupRef, cause: ArkError): IntegrityError {
  const archive = basename(backup.statesArchive);
  const sums = basename(backup.checksumFile);
  return new IntegrityError(
    'CHECKSUM_FILE_MISSING',
    `${backup.dir} has no readable ${sums}, so ${archive} cannot be verified: refusing to extract it. ` +
      `Restore another date (emergency-restore <module> YYYYMMDD), or recover ${sums} from a copy you trust (offsite) first.`,
    { cause },
  );
}
