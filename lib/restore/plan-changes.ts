export type ChangeAction = 'replace' | 'create' | 'remove' | 'unchanged';

export interface FileChange {
  /** Path relative to the Arkalia root. */
  path: string;
  action: ChangeAction;
  currentSha256: string | null;
  backupSha256: string | null;
}

/**
 * Pure: what restoring `staged` over `live` (both root-relative path → sha256) does to each
 * file. Live files the backup lacks are removed only inside the mirrored folders; elsewhere
 * they are none of the restore's business. Sorted by path: the order the swap applies them.
 */
export function planChanges(
  staged: ReadonlyMap<string, { sha256: string }>,
  live: ReadonlyMap<string, string>,
  mirror: readonly string[],
): FileChange[] {
  const changes: FileChange[] = [...staged].map(([path, file]) => {
    const current = live.get(path) ?? null;
    const action: ChangeAction = current === null ? 'create' : current === file.sha256 ? 'unchanged' : 'replace';
    return { path, action, currentSha256: current, backupSha256: file.sha256 };
  });
  for (const [path, sha] of live) {
    if (!staged.has(path) && mirror.some((dir) => path.startsWith(dir)))
      changes.push({ path, action: 'remove', currentSha256: sha, backupSha256: null });
  }
  // Stryker disable next-line EqualityOperator,ConditionalExpression: equivalent: paths are unique (staged keys, then live-only ones), and V8's sort only asks whether the result is negative
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
