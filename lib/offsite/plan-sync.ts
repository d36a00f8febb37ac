import { UPLOAD_TEMP_PREFIX } from './local-remote.ts';
import type { RemoteEntry } from './remote.ts';
import { archiveKind } from './archive-kind.ts';
import { SUMS_FILE } from '../layout/index.ts';

/** The manifest the sync keeps on the remote: `sha256sum -c SHA256SUMS` works there. */

export interface LocalFile {
  name: string;
  size: number;
  sha256: string;
}

export type SyncActionKind = 'upload' | 'skip' | 'delete' | 'keep' | 'cleanup';

export interface SyncAction {
  name: string;
  action: SyncActionKind;
  reason: string;
  bytes: number | null;
  /** upload/skip: the local sha256; keep: the sha256 the remote manifest vouches for, if any. */
  sha256?: string;
  /** delete: the newer copy of the same kind this deletion relies on; it must verify first. */
  newerCopy?: string;
  /**
   * upload: a remote file the remote SHA256SUMS vouches for with the same sha256 and size (a
   * recovery point's link to an archive already offsite): copied on the remote side where
   * the backend can, instead of uploaded again.
   */
  sameAs?: string;
}

export interface SyncPlanInput {
  /** Local files that verified against the local SHA256SUMS. */
  local: readonly LocalFile[];
  /** Local names present but NOT verified (unlisted, mismatch): their remote copies are kept. */
  localRefused: readonly string[];
  remote: readonly RemoteEntry[];
  /** The remote SHA256SUMS: name -> sha256 of the files it vouches for. */
  remoteSums: ReadonlyMap<string, string>;
}

/** Not synced, never deleted: rsync's --exclude '*.tmp' and hidden files (other than our own upload leftovers). */
export function isExcluded(name: string): boolean {
  return name === SUMS_FILE || name.endsWith('.tmp') || name.startsWith('.');
}

/**
 * Pure: what a mirror of the local folder onto the remote must do, file by file, with a reason.
 *
 * Uploads: a local file the remote lacks, holds with another size, or whose sha256 the remote
 * SHA256SUMS does not vouch for. Deletion rule (never delete the last good offsite copy): a
 * remote file that is gone locally is deleted only if a NEWER copy of the same archive kind
 * (same name, later date) will be on the remote, verified, after this sync; it is never the
 * newest of its kind, files without a date are never deleted, and nothing is deleted when the
 * local folder holds no verified file at all (a wiped or unmounted source must not prune the
 * offsite history).
 */
export function planSync(input: SyncPlanInput): SyncAction[] {
  const actions: SyncAction[] = [];
  const remoteByName = new Map(input.remote.map((e) => [e.name, e]));
  const localNames = new Set(input.local.map((f) => f.name));
  const refused = new Set(input.localRefused);
  // sha256 -> a remote file that holds it, vouched for and of the right size.
  const bySha = new Map<string, string>();
  for (const [name, sha256] of [...input.remoteSums].sort(([a], [b]) => a.localeCompare(b)))
    if (remoteByName.has(name) && !bySha.has(sha256) && !isExcluded(name)) bySha.set(sha256, name);

  for (const file of input.local) {
    const there = remoteByName.get(file.name);
    const vouched = input.remoteSums.get(file.name);
    const upload = (reason: string) => {
      const twin = bySha.get(file.sha256);
      const sameAs =
        twin !== undefined && twin !== file.name && remoteByName.get(twin)!.size === file.size ? twin : null;
      actions.push({
        name: file.name,
        action: 'upload',
        reason: sameAs ? `${reason}; the remote already holds these bytes as ${sameAs}` : reason,
        bytes: file.size,
        sha256: file.sha256,
        ...(sameAs ? { sameAs } : {}),
      });
    };
    if (!there) upload('not on the remote');
    else if (there.size !== file.size) upload(`the remote copy has ${there.size} bytes, the local ${file.size}`);
    else if (vouched === undefined) upload(`the remote ${SUMS_FILE} does not vouch for the remote copy`);
    else if (vouched !== file.sha256)
      upload(`the local copy differs (sha256) from what the remote ${SUMS_FILE} vouches for`);
    else
      actions.push({
        name: file.name,
        action: 'skip',
        reason: `same size and sha256 on the remote`,
        bytes: file.size,
        sha256: file.sha256,
      });
  }

  // Copies that will be on the remote and verified once this sync is done, by kind.
  const verifiedAfter = new Map<string, { name: string; stamp: string }[]>();
  const note = (name: string) => {
    const kind = archiveKind(name);
    if (kind) verifiedAfter.set(kind.kind, [...(verifiedAfter.get(kind.kind) ?? []), { name, stamp: kind.stamp }]);
  };
  for (const file of input.local) note(file.name);
  for (const entry of input.remote) {
    if (!localNames.has(entry.name) && !isExcluded(entry.name) && input.remoteSums.has(entry.name)) note(entry.name);
  }

  for (const entry of input.remote) {
    if (localNames.has(entry.name)) continue;
    if (entry.name.startsWith(UPLOAD_TEMP_PREFIX)) {
      actions.push({
        name: entry.name,
        action: 'cleanup',
        reason: 'leftover of an interrupted upload',
        bytes: entry.size,
      });
      continue;
    }
    if (isExcluded(entry.name)) continue;
    const keep = (reason: string) =>
      actions.push({
        name: entry.name,
        action: 'keep',
        reason,
        bytes: entry.size,
        ...(input.remoteSums.has(entry.name) ? { sha256: input.remoteSums.get(entry.name)! } : {}),
      });
    if (refused.has(entry.name)) {
      keep('the local copy does not verify; the offsite copy is kept');
      continue;
    }
    const kind = archiveKind(entry.name);
    if (!kind) {
      keep('gone locally, but it has no date in its name: never deleted automatically');
      continue;
    }
    if (input.local.length === 0) {
      keep('gone locally, but the local folder holds no verified file: nothing is deleted');
      continue;
    }
    const newest = (verifiedAfter.get(kind.kind) ?? [])
      .filter((c) => c.stamp > kind.stamp)
      .sort((a, b) => b.stamp.localeCompare(a.stamp))[0];
    if (!newest) {
      keep(`gone locally, but it is the newest copy of ${kind.kind} offsite`);
      continue;
    }
    actions.push({
      name: entry.name,
      action: 'delete',
      reason: `gone locally; a newer verified copy of ${kind.kind} is kept offsite (${newest.name})`,
      bytes: entry.size,
      newerCopy: newest.name,
    });
  }
  return actions.sort((a, b) => a.name.localeCompare(b.name));
}
