import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExtractBudget, extractArchive, runsHolding, type ExtractLimits, type Refusal } from '../archive/index.ts';
import { IntegrityError } from '../errors.ts';
import type { EventSink } from '../events.ts';
import { ProgressReporter } from '../progress.ts';
import { TomlCheckPool, validateToml } from '../state/index.ts';
import type { BackupCandidate, RecoveryPoint } from './backup-candidate.ts';
import { inScope, type RestoreScope } from './restore-scope.ts';

export interface StagedFile {
  sha256: string;
  /** Where the bytes come from: the daily backup, or a newer real-time snapshot. */
  source: 'backup' | 'snapshot';
  /** The data's timestamp (its archive's recovery point, or when the snapshot was taken). */
  at: string | null;
  /** The same instant, for comparisons (null: unknown). */
  atTime?: Date | null;
  snapshot?: string;
  /**
   * True: the live file held exactly these bytes when the archive was read, so they were not
   * written to staging (restic's `--overwrite if-changed`); `restage` writes them there if the
   * swap finds the live file changed since.
   */
  live?: true;
}

export interface StagedBackup {
  candidate: BackupCandidate;
  recoveryPoint: RecoveryPoint;
  /** Folder holding the staged files at their root-relative paths. */
  dir: string;
  /** Root-relative path → what was staged there. */
  files: Map<string, StagedFile>;
  refused: Refusal[];
  /** Invalid TOML the backup had recorded as invalid when it was taken, restored as it was. */
  knownInvalid: { path: string; reason: string }[];
  /** Optional archives this backup lacks (their data is left as it is). */
  skipped: string[];
  /** Remove the staging folder (idempotent). */
  discard(): Promise<void>;
  /**
   * Write to staging the files of `paths` left out because the live tree held them (`live`),
   * from the same archives, each checked against the sha256 staged for it (IntegrityError
   * ARCHIVE_CHANGED if an archive no longer gives those bytes).
   */
  restage(paths: readonly string[]): Promise<void>;
}

export interface StageOptions {
  candidate: BackupCandidate;
  scope: RestoreScope;
  /** Created here; removed on failure. Must be on the same filesystem as the live tree (or a temp folder for a dry run). */
  stagingDir: string;
  sink: EventSink;
  limits?: Partial<ExtractLimits>;
  /** Restore files the backup recorded as invalid, as they were (disaster recovery), instead of rejecting it. */
  acceptDeclaredInvalid?: boolean;
  /** The live tree: a file there that already holds the backup's bytes is not written to staging (StagedFile.live). */
  liveRoot?: string;
  signal?: AbortSignal;
}

/**
 * Verify every archive the scope needs against what vouches for it BEFORE reading any as a
 * tarball, then extract the scope's members into staging (safely, within caps), then
 * validate every TOML file. Nothing live is touched; on failure the staging folder is gone.
 */
export async function stageBackup(options: StageOptions): Promise<StagedBackup> {
  const { candidate, scope, sink } = options;
  const archives: { name: string; file: string; bytes: number }[] = [];
  const skipped: string[] = [];
  // Each archive is read twice: verified, then extracted; the overall total counts both.
  const sizes = await Promise.all(
    scope.archives.map(async ({ name }) => {
      const file = await candidate.archiveFile(name);
      return file === null
        ? 0
        : await stat(file).then(
            (s) => s.size,
            () => 0,
          );
    }),
  );
  const progress = new ProgressReporter({ sink, totalBytes: 2 * sizes.reduce((a, b) => a + b, 0) });

  // TOML is parsed on a worker thread, on the other core, while this one extracts; it starts
  // now, so that it is up (~50 ms) by the time the first state file comes out of the archive.
  const checker = new TomlCheckPool();
  const discard = () => rm(options.stagingDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
  try {
    // 1. Verify first: a byte flipped anywhere rejects the backup before it is parsed.
    for (const { name, required } of scope.archives) {
      const file = await candidate.archiveFile(name);
      if (!required && (file === null || !(await exists(file)))) {
        skipped.push(name);
        sink({
          kind: 'warning',
          code: 'ARCHIVE_ABSENT',
          message: `${candidate.label} has no ${name} archive: that data is left as it is`,
        });
        continue;
      }
      const sha256 = await candidate.verify(name, progress); // a missing required archive throws here
      sink({ kind: 'checksum-verified', file: file!, sha256 });
      archives.push({ name, file: file!, bytes: (await stat(file!)).size });
    }

    // 2. Extract the scope's members, every archive under one budget (caps sized from the manifest),
    // hashing each file on its way to the disk and validating each TOML file from those very bytes.
    const limits = {
      ...(await defaultLimits(
        candidate,
        archives.map((a) => a.name),
      )),
      ...options.limits,
    };
    const budget = new ExtractBudget(limits);
    const recoveryPoint = await candidate.recoveryPoint();
    const staged = new Map<string, StagedFile>();
    const twice = new Set<string>(); // members an archive holds more than once (tar -r)
    await mkdir(options.stagingDir, { recursive: true, mode: 0o700 });
    const refused: Refusal[] = [];
    for (const { name, file, bytes } of archives) {
      const point = await candidate.recoveryPoint(name);
      // One module's state: only the runs of the archive that hold it (read-runs.ts), when it was written in runs.
      const index = scope.wholeArchives ? null : await candidate.declaredSegments(name);
      const runs = index ? await runsHolding(file, index, scope.paths) : null;
      const toRead = runs ? runs.reduce((sum, run) => sum + run.gz_bytes, 0) : bytes;
      const task = progress.task(
        `extract:${name}`,
        `restoring from ${basename(file)}${runs ? ` (${runs.length} of its ${index!.runs.filter((r) => r.members > 0).length} runs)` : ''}`,
        { bytes: toRead, files: null },
      );
      let read = 0;
      const result = await extractArchive({
        file,
        ...(runs ? { runs } : {}),
        onRead: (n) => task.update({ bytes: (read = n), files: staged.size }),
        cwd: options.stagingDir,
        select: (path) => inScope(scope, path),
        onRefused: (r) => sink({ kind: 'entry-refused', entry: r.entry, reason: r.reason }),
        budget,
        // State and config files are small and parsed whole, like toml.load; anything else may be large.
        keepContent: (path) => path.endsWith('.toml'),
        ...(options.liveRoot === undefined ? {} : { sameAs: liveCounterpart(options.liveRoot) }),
        onFile: (path, written, content) => {
          if (staged.has(path)) twice.add(path);
          staged.set(path, {
            sha256: written.sha256,
            source: 'backup',
            at: point.display,
            atTime: point.at,
            ...(written.written ? {} : { live: true as const }),
          });
          if (content === null) return;
          checker.check(path, content, 'cannot be checked');
          return checker.below(MAX_PENDING_VALIDATION); // memory stays bounded: the archive waits for the worker
        },
        ...(options.signal ? { signal: options.signal } : {}),
      });
      task.done({ bytes: Math.max(read, toRead), files: staged.size });
      refused.push(...result.refused);
    }

    // 3. What was staged, in path order, and whether its TOML parses.
    if (staged.size === 0)
      throw scope.missing(candidate.label, archives.map((a) => basename(a.file)).join(', ') || 'its archives');
    const declared = await candidate.declaredInvalid();
    const files = new Map([...staged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const invalid: string[] = [];
    const knownInvalid: { path: string; reason: string }[] = [];
    const tomlProblems = new Map((await checker.finish()).map((p) => [p.path, p.reason]));
    // A member held twice was checked twice: what counts is the version on disk, the last one.
    for (const path of twice) {
      if (!path.endsWith('.toml')) continue;
      const where = staged.get(path)!.live ? options.liveRoot! : options.stagingDir;
      const check = validateToml(await readFile(join(where, path)));
      if (check.ok) tomlProblems.delete(path);
      else tomlProblems.set(path, check.reason);
    }
    for (const path of files.keys()) {
      const reason = tomlProblems.get(path);
      if (reason === undefined) continue;
      if (options.acceptDeclaredInvalid && declared.has(path)) knownInvalid.push({ path, reason });
      else invalid.push(`${path}: ${reason}`);
    }
    if (invalid.length > 0) {
      throw new IntegrityError(
        'BACKUP_STATE_INVALID',
        `the backup's state is not valid TOML, refusing to restore it:\n  ${invalid.join('\n  ')}`,
        { details: { invalid } },
      );
    }
    const restage = async (paths: readonly string[]) => {
      const wanted = new Set(paths.filter((path) => files.get(path)?.live));
      if (wanted.size === 0) return;
      const found = new Set<string>();
      const again = new ExtractBudget(limits);
      for (const { file } of archives) {
        await extractArchive({
          file,
          cwd: options.stagingDir,
          select: (path) => wanted.has(path),
          budget: again,
          onFile: (path, written) => {
            const want = files.get(path)!;
            if (written.sha256 !== want.sha256) found.delete(path);
            else found.add(path);
          },
          ...(options.signal ? { signal: options.signal } : {}),
        });
      }
      const lost = [...wanted].filter((path) => !found.has(path));
      if (lost.length > 0)
        throw new IntegrityError(
          'ARCHIVE_CHANGED',
          `${candidate.label} no longer gives the bytes it gave when it was verified, for ${lost.slice(0, 3).join(', ')}${lost.length > 3 ? ` and ${lost.length - 3} more` : ''}: refusing to restore from it`,
        );
      for (const path of wanted) {
        const { live: _, ...file } = files.get(path)!;
        files.set(path, file);
      }
    };
    return {
      candidate,
      recoveryPoint,
      dir: options.stagingDir,
      files,
      refused,
      knownInvalid,
      skipped,
      discard,
      restage,
    };
  } catch (error) {
    await checker.close();
    await discard().catch(() => {}); // the reason the staging failed is what matters
    throw error;
  }
}

/** TOML bytes waiting for the worker before the archive is held back (the backup uses the same bound). */
const MAX_PENDING_VALIDATION = 4 * 1024 * 1024;

/** Entries: what the manifest declares, twice over plus 1000; unknown → the default cap. */
async function defaultLimits(candidate: BackupCandidate, archives: string[]): Promise<Partial<ExtractLimits>> {
  let members = 0;
  for (const name of archives) {
    const declared = await candidate.declaredMembers(name);
    if (declared === null) return {};
    members += declared;
  }
  return { maxEntries: members * 2 + 1000 };
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

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * The live file an archive member may already be (extractArchive's `sameAs`), or null where
 * its folder does not exist: into an empty root (a recovery) 17k opens that could only fail
 * cost 0.2 s. Each folder looked at once; null only ever means "write it to staging".
 */
function liveCounterpart(liveRoot: string): (path: string) => string | null {
  const dirs = new Map<string, boolean>();
  return (path) => {
    const dir = dirname(path);
    let exists = dirs.get(dir);
    if (exists === undefined) {
      try {
        exists = statSync(join(liveRoot, dir), { throwIfNoEntry: false })?.isDirectory() ?? false;
      } catch {
        exists = false; // ENOTDIR, EACCES: staged, and the swap says what is wrong
      }
      dirs.set(dir, exists);
    }
    return exists ? join(liveRoot, path) : null;
  };
}
