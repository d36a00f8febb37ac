import type { StagedFile } from './stage-module-state.ts';

export type ChangeAction = 'replace' | 'create' | 'remove' | 'unchanged';

export interface FileChange {
  /** Path relative to the Arkalia root. */
  path: string;
  action: ChangeAction;
  currentSha256: string | null;
  backupSha256: string | null;
}

/** Pure: what restoring `staged` over `live` (both name → sha256) does to each file. */
export function planChanges(prefix: string, staged: readonly StagedFile[], live: ReadonlyMap<string, string>): FileChange[] {
  const changes: FileChange[] = staged.map((file) => {
    const current = live.get(file.name) ?? null;
    const action: ChangeAction = current === null ? 'create' : current === file.sha256 ? 'unchanged' : 'replace';
    return { path: `${prefix}${file.name}`, action, currentSha256: current, backupSha256: file.sha256 };
  });
  const inBackup = new Set(staged.map((f) => f.name));
  for (const [name, sha] of live) {
    if (!inBackup.has(name)) changes.push({ path: `${prefix}${name}`, action: 'remove', currentSha256: sha, backupSha256: null });
  }
  return changes.sort((a, b) => a.path.localeCompare(b.path));
}
