import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseBackupDirName } from '../layout/index.ts';
import { writeFileAtomic } from '../state/index.ts';

// When each backup point was last verified in full (every archive against its checksum file,
// by `verify --daily`) and with what result, for `ark list`. One small file per point under
// <backup-dir>/.arkalia-dr-checks/, written atomically: two runs recording different points
// never lose each other's record, and a point's folder (what sha256sum -c and the offsite
// copy see) is never written to. A record whose point is gone is ignored.

export const CHECKS_DIR = '.arkalia-dr-checks';

const recordSchema = z.object({
  format: z.literal('arkalia-dr-check/1'),
  backup: z.string(),
  at: z.string(),
  by: z.string(),
  ok: z.boolean(),
  archives: z.number().int().nonnegative(),
  problems: z.array(z.object({ archive: z.string(), problem: z.string() })),
});

export type VerificationRecord = Omit<z.infer<typeof recordSchema>, 'format'>;

export async function recordVerification(backupDir: string, record: VerificationRecord): Promise<void> {
  if (parseBackupDirName(record.backup) === null) throw new Error(`not a backup folder name: ${record.backup}`);
  const dir = join(backupDir, CHECKS_DIR);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(
    join(dir, `${record.backup}.json`),
    `${JSON.stringify({ format: 'arkalia-dr-check/1', ...record }, null, 2)}\n`,
  );
}

/** The last recorded verification of each point, by folder name; a missing or unreadable record is simply absent. */
export async function readVerifications(backupDir: string): Promise<Map<string, VerificationRecord>> {
  const dir = join(backupDir, CHECKS_DIR);
  const names = await readdir(dir).catch(() => [] as string[]);
  const records = new Map<string, VerificationRecord>();
  for (const name of names) {
    const backup = name.replace(/\.json$/, '');
    if (!name.endsWith('.json') || parseBackupDirName(backup) === null) continue;
    try {
      const { format: _format, ...record } = recordSchema.parse(JSON.parse(await readFile(join(dir, name), 'utf8')));
      if (record.backup === backup) records.set(backup, record);
    } catch {
      // unreadable: as if never verified
    }
  }
  return records;
}
