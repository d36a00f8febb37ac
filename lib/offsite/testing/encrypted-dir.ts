import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatChecksumFile, sha256Buffer } from '../../checksum/index.ts';

/**
 * Make <backupDir>/encrypted/ hold exactly `files` plus a SHA256SUMS listing them, as the
 * encryption script writes it (the content stands in for gpg output). `corrupt` names files
 * whose bytes are changed AFTER the checksum was taken.
 */
export async function writeEncrypted(
  backupDir: string,
  files: Record<string, string | Buffer>,
  options: { corrupt?: string[]; unlisted?: string[] } = {},
): Promise<string> {
  const dir = join(backupDir, 'encrypted');
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir)) await rm(join(dir, name), { force: true });
  const listed = Object.entries(files).filter(([name]) => !(options.unlisted ?? []).includes(name));
  await writeFile(
    join(dir, 'SHA256SUMS'),
    formatChecksumFile(listed.map(([name, content]) => ({ name, sha256: sha256Buffer(content) }))),
  );
  for (const [name, content] of Object.entries(files)) {
    await writeFile(
      join(dir, name),
      (options.corrupt ?? []).includes(name) ? Buffer.concat([Buffer.from(content), Buffer.from('!')]) : content,
    );
  }
  return dir;
}
