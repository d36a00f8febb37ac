import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isArkError } from '../errors.ts';
import type { BackupCandidate, RestoreJournal } from '../restore/index.ts';
import { assertSpace, type SpaceNeed } from '../state/index.ts';
import type { RestoreOptions } from './restore.ts';

// A restore's two space checks (runRestore): before staging, against what the backup
// declares; before the swap, against what the swap itself writes. Either stops the restore
// before the live root changes, naming the space needed and the space there is.

/**
 * Before staging: the backup's declared tar bytes must fit beside the root (where the
 * workspace is). For a scope that takes its archives whole that is what staging needs, and a
 * shortfall stops the restore before anything is written; for one module's state it is only
 * an upper bound, so a shortfall is a warning (staging itself then says if space runs out).
 */
export async function assertStagingSpace(
  o: Pick<RestoreOptions, 'scope' | 'root' | 'sink'>,
  candidate: BackupCandidate,
  workspace: string,
): Promise<void> {
  const declared = await Promise.all(o.scope.archives.map((a) => candidate.declaredTarBytes(a.name).catch(() => null)));
  const bytes = declared.reduce<number>((sum, n) => sum + (n ?? 0), 0);
  if (bytes === 0) return; // an older manifest, or none: nothing to go by
  const need = [{ path: workspace, bytes, what: `staging the ${o.scope.label} of ${candidate.label}` }];
  const changed = `Nothing in ${o.root} was changed.`;
  if (o.scope.wholeArchives) return assertSpace(need, { changed });
  await assertSpace(need, { changed, marginBytes: 0 }).catch((error: unknown) => {
    if (!isArkError(error) || error.code !== 'IO_NO_SPACE') throw error;
    o.sink({
      kind: 'warning',
      code: 'SPACE_MAY_NOT_SUFFICE',
      message: `${error.message.replace(/ Free space there.*$/, '')} (the whole archive; this restore takes only part of it: trying)`,
    });
  });
}

/**
 * Before the swap: everything is staged, so the swap itself needs only its journal and the
 * copies it makes on other file systems (sidecars); the rest are renames and links.
 */
export async function assertSwapSpace(journal: RestoreJournal, root: string): Promise<void> {
  const needs: SpaceNeed[] = [{ path: root, bytes: 2 * JSON.stringify(journal).length, what: 'the restore journal' }];
  for (const entry of journal.entries) {
    if (entry.staged === null || entry.staged.startsWith(`${journal.workspaces[0]}/`)) continue;
    const size = await stat(join(journal.workspaces[0]!, 'staged', entry.path)).then((s) => s.size);
    needs.push({ path: dirname(entry.staged), bytes: size, what: `a copy of ${entry.path} beside it` });
  }
  await assertSpace(needs, { changed: `Nothing in ${root} was changed.`, marginBytes: 1024 * 1024 });
}
