import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decryptFile, readPrivateKeys } from '../crypto/index.ts';
import { isEncryptedName } from '../layout/index.ts';
import { fetchToFile } from '../offsite/index.ts';
import { readOffsiteIndex } from '../restore-source/index.ts';
import type { ChecklistOptions, Outcome } from './check-result.ts';
import { openOffsite } from './check-offsite.ts';

/** The stamp in `<prefix>_<STAMP>.tar.gz.gpg`, for newest-first order. */
const gpgDate = (name: string) => /_(\d{8}(?:_\d{4})?)\./.exec(name)?.[1] ?? '';

/** Monthly: fetch the newest *.gpg of the offsite (checked against SHA256SUMS), decrypt it, compare with encrypted_manifest.json. */
export async function checkOffsiteDecrypt(options: ChecklistOptions): Promise<Outcome> {
  if (!options.offsite || !options.key) return { status: 'skipped', detail: 'skipped: needs --offsite and --key' };
  const remote = await openOffsite(options);
  const index = await readOffsiteIndex(remote, { sink: options.sink });
  const candidates = index.listing
    .filter((e) => isEncryptedName(e.name) && index.sums.has(e.name) && index.manifest[e.name])
    .sort((a, b) => gpgDate(b.name).localeCompare(gpgDate(a.name)) || a.name.localeCompare(b.name));
  const sample = candidates[0];
  if (!sample)
    return {
      status: 'failed',
      detail: `${remote.target} holds no *.gpg that SHA256SUMS and encrypted_manifest.json both describe`,
    };
  const record = index.manifest[sample.name]!;
  const keys = await readPrivateKeys(options.key, { passphrases: options.passphrases ?? [], purpose: 'decrypt' });
  const work = await mkdtemp(join(tmpdir(), 'ark-verify-'));
  try {
    const fetched = await fetchToFile(remote, sample.name, join(work, sample.name), {
      sha256: index.sums.get(sample.name)!,
      size: sample.size,
    });
    const decrypted = await decryptFile({
      source: fetched.path,
      target: join(work, 'plain'),
      keys,
      expectedSha256: record.source_sha256,
    });
    return {
      status: 'ok',
      detail: `${sample.name}: downloaded (${fetched.size} bytes, matches SHA256SUMS), decrypted to ${decrypted.bytes} bytes matching encrypted_manifest.json sha256 ${decrypted.sha256.slice(0, 16)}…`,
      data: { file: sample.name, sha256: decrypted.sha256, bytes: decrypted.bytes },
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
