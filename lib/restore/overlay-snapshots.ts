import { constants } from 'node:fs';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { sha256Buffer } from '../checksum/index.ts';
import type { EventSink } from '../events.ts';
import { findLatestSnapshots, parseSnapshotName } from '../snapshot/index.ts';
import { validateToml } from '../state/index.ts';
import { inScope, type RestoreScope } from './restore-scope.ts';
import type { StagedBackup } from './stage-backup.ts';

export interface SnapshotUse {
  path: string;
  snapshot: string;
  takenAt: string;
  sha256: string;
}

/**
 * Smaller data loss: for each state file in scope whose newest valid real-time snapshot is
 * newer than the daily backup, put the snapshot's bytes in staging instead (re-read without
 * following links, and used only if they still have the sha256 and parse). A backup of
 * unknown time (runbook backup without a manifest) counts as taken at the end of its day.
 */
export async function overlaySnapshots(options: {
  staged: StagedBackup;
  scope: RestoreScope;
  backupDir: string;
  patterns: readonly string[];
  sink: EventSink;
}): Promise<SnapshotUse[]> {
  const { staged, sink } = options;
  const backupAt = staged.recoveryPoint.at;
  const latest = await findLatestSnapshots({
    backupDir: options.backupDir,
    patterns: options.patterns,
    include: (path) => inScope(options.scope, path),
  });
  const used: SnapshotUse[] = [];
  for (const [path, snap] of latest.byPath) {
    // Newer than the capture of the archive that holds this file (a point may carry an older one).
    const capturedAt = staged.files.get(path)?.atTime ?? backupAt;
    if (capturedAt !== null && snap.takenAt.getTime() <= capturedAt.getTime()) continue;
    const bytes = await readNoFollow(snap.file);
    if (bytes === null || sha256Buffer(bytes) !== snap.sha256 || !validateToml(bytes).ok) {
      sink({
        kind: 'warning',
        code: 'SNAPSHOT_CHANGED',
        message: `snapshot ${snap.snapshot} changed while it was being read: not used for ${path}`,
      });
      continue;
    }
    const target = join(staged.dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes, { mode: 0o644 });
    const takenAt = snap.takenAt.toISOString();
    staged.files.set(path, { sha256: snap.sha256, source: 'snapshot', at: takenAt, snapshot: snap.snapshot });
    staged.knownInvalid.splice(0, staged.knownInvalid.length, ...staged.knownInvalid.filter((k) => k.path !== path));
    used.push({ path, snapshot: snap.snapshot, takenAt, sha256: snap.sha256 });
    sink({
      kind: 'snapshot-used',
      path,
      snapshot: snap.snapshot,
      takenAt,
      backupRecoveryPoint: staged.recoveryPoint.display,
    });
  }
  for (const bad of latest.invalid) {
    const taken = parseSnapshotName(basename(bad.snapshot))?.takenAt;
    if (backupAt !== null && taken !== undefined && taken.getTime() <= backupAt.getTime()) continue;
    sink({
      kind: 'warning',
      code: 'SNAPSHOT_INVALID',
      path: bad.livePath,
      message: `snapshot ${bad.snapshot} is not valid TOML (${bad.reason}): skipped`,
    });
  }
  for (const series of latest.ambiguous) {
    sink({
      kind: 'warning',
      code: 'SNAPSHOT_AMBIGUOUS',
      message: `runbook snapshots ${series.series}.* could be of ${series.candidates.join(' or ')}: not used`,
    });
  }
  return used;
}

async function readNoFollow(file: string): Promise<Buffer | null> {
  const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null);
  if (!handle) return null;
  try {
    return (await handle.stat()).isFile() ? await handle.readFile() : null;
  } finally {
    await handle.close();
  }
}
