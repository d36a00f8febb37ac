import { copyFile, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { sha256Buffer } from '../../lib/checksum/index.ts';
import { loadPolicy } from '../../lib/policy/index.ts';
import { tempDir } from '../../lib/testing.ts';
import { resolveBackupDate } from './delete-backup.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';

/** An archive of the newest (or a dated) daily backup damaged, its checksum file left as it was. */
const schema = z.strictObject({
  kind: z.literal('corrupt-archive'),
  backup: z
    .string()
    .regex(/^(newest|\d{8})$/, { message: 'newest or YYYYMMDD' })
    .default('newest'),
  archive: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .default('states'),
  mode: z.enum(['bit-flip', 'truncate']).default('bit-flip'),
});

export const corruptArchiveFault = defineFault({
  kind: 'corrupt-archive',
  schema,
  needsStack: false,
  inject: injectCorruptArchive,
});

type CorruptArchive = z.infer<typeof schema>;

/**
 * Damage an archive of the newest (or a dated) daily backup, as bit rot or an interrupted
 * copy would: flip one byte in its middle, or cut it in half. Its checksum file is left as it
 * was, so a restore must notice before reading it. The damaged file replaces the name (a new
 * inode): points that hard-link the same archive keep the good bytes, so only the point
 * named is damaged. Revert puts the original bytes back only if the file still holds the damage.
 */
export async function injectCorruptArchive(fault: CorruptArchive, ctx: FaultContext): Promise<InjectedFault> {
  const date = await resolveBackupDate(ctx.backupDir, fault.backup);
  const { policy } = await loadPolicy({ root: ctx.root });
  const prefix = policy.archives[fault.archive]?.prefix;
  if (prefix === undefined) throw new Error(`the policy has no archive "${fault.archive}"`);
  const file = join(ctx.backupDir, 'daily', `arkalia_${date}`, `${prefix}_${date}.tar.gz`);
  const original = join(await tempDir('ark-fault-archive-'), 'original');
  await copyFile(file, original);
  const info = await stat(file);
  const size = info.size;
  const bytes = await readFile(file);
  let damagedBytes: Buffer;
  let what: string;
  if (fault.mode === 'truncate') {
    damagedBytes = bytes.subarray(0, Math.floor(size / 2));
    what = `truncated from ${size} to ${Math.floor(size / 2)} bytes`;
  } else {
    const at = Math.floor(bytes.length / 2);
    bytes[at]! ^= 0x01;
    damagedBytes = bytes;
    what = `bit flipped at byte ${at} of ${size}`;
  }
  const temp = `${file}.ark-fault`;
  await writeFile(temp, damagedBytes, { mode: info.mode & 0o777 });
  await rename(temp, file);
  const damaged = sha256Buffer(damagedBytes);
  return {
    kind: fault.kind,
    description: `${file}: ${what} (checksum file untouched)`,
    async revert() {
      const now = await readFile(file).catch(() => null);
      if (now !== null && sha256Buffer(now) === damaged) await copyFile(original, file);
      await rm(join(original, '..'), { recursive: true, force: true });
    },
  };
}
