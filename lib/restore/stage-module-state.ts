import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { extractArchive, type Refusal } from '../archive/index.ts';
import { assertChecksumsOk, sha256Buffer, verifyChecksums } from '../checksum/index.ts';
import { IntegrityError, NotFoundError } from '../errors.ts';
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
 * Verify the states archive against the backup's checksum file BEFORE reading it, extract only
 * modules/<module>/state/ into `stagingRoot`, and validate every TOML file there. Nothing live
 * is touched; on failure the staging folder is removed.
 */
export async function stageModuleState(options: { backup: BackupRef; module: string; stagingRoot: string; sink: EventSink }): Promise<StagedState> {
  const { backup, module, sink } = options;
  await stat(backup.statesArchive).catch(() => {
    throw new NotFoundError('STATES_ARCHIVE_MISSING', `${backup.dir} has no ${basename(backup.statesArchive)}`);
  });
  const results = await verifyChecksums(backup.checksumFile, { only: [basename(backup.statesArchive)] });
  assertChecksumsOk(results, backup.checksumFile);
  sink({ kind: 'checksum-verified', file: backup.statesArchive, sha256: results[0]!.expected });

  await mkdir(options.stagingRoot, { recursive: true, mode: 0o700 });
  const discard = () => rm(options.stagingRoot, { recursive: true, force: true });
  try {
    const prefix = moduleStatePrefix(module);
    const { refused } = await extractArchive({
      file: backup.statesArchive,
      cwd: options.stagingRoot,
      select: (path) => path.startsWith(prefix),
      onRefused: (r) => sink({ kind: 'entry-refused', entry: r.entry, reason: r.reason }),
    });
    const dir = join(options.stagingRoot, prefix);
    const files = await listFiles(dir).catch(() => [] as string[]);
    if (files.length === 0) {
      throw new NotFoundError('MODULE_NOT_IN_BACKUP', `backup ${basename(backup.dir)} holds no state for module "${module}" (no ${prefix} in ${basename(backup.statesArchive)})`);
    }
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
    await discard();
    throw error;
  }
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
