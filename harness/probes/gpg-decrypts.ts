import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { glob } from 'tinyglobby';
import { z } from 'zod';
import { tempDir } from '../../lib/testing.ts';
import { inPath, location } from '../scenario/fields.ts';
import { expand, locationDir, type Location } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { defineProbe } from './probe.ts';

/** GnuPG (not our code) decrypts every matching .gpg with the given private key(s), to the sha256 its SHA256SUMS / manifest records. */
const schema = z.strictObject({
  probe: z.literal('gpg-decrypts'),
  in: location('backup'),
  glob: inPath,
  key_in: location('work'),
  key: inPath,
});

export const gpgDecryptsProbe = defineProbe({
  probe: 'gpg-decrypts',
  schema,
  needsStack: false,
  describe: (probe) => `gpg-decrypts ${probe.in}:${probe.glob} with ${probe.key_in}:${probe.key}`,
  run: (probe, ctx) => gpgDecrypts({ in: probe.in, glob: probe.glob, keyIn: probe.key_in, key: probe.key }, ctx),
});

/**
 * GnuPG, not our OpenPGP code, decrypts every matching .gpg with the private key(s) matching
 * `key`, and the plaintext has the sha256 that the folder's encrypted_manifest.json records
 * for it (the archive's own checksum). The runbook's restore_from_remote, checked for real.
 */
export async function gpgDecrypts(
  input: { in: Location; glob: string; keyIn: Location; key: string },
  ctx: ProbeContext,
): Promise<ProbeResult> {
  const pattern = expand(ctx, input.glob);
  const probe = `gpg-decrypts ${input.in}:${pattern} with ${input.keyIn}:${input.key}`;
  const base = locationDir(ctx, input.in);
  const files = (await glob(pattern, { cwd: base, dot: false, onlyFiles: true }))
    .filter((f) => f.endsWith('.gpg'))
    .sort();
  const keys = await glob(expand(ctx, input.key), {
    cwd: locationDir(ctx, input.keyIn),
    onlyFiles: true,
    absolute: true,
  });
  if (files.length === 0) return { probe, ok: false, detail: 'no .gpg file matched' };
  if (keys.length === 0) return { probe, ok: false, detail: 'no key file matched' };
  const home = await tempDir('ark-gnupg-');
  try {
    const imported = await gpg(home, ['--import', ...keys]);
    if (imported.code !== 0)
      return { probe, ok: false, detail: `gpg --import: ${imported.stderr.trim().slice(0, 300)}` };
    const problems: string[] = [];
    for (const file of files) {
      const path = join(base, file);
      const out = await gpg(home, ['--pinentry-mode', 'loopback', '--passphrase', '', '--decrypt', path]);
      if (out.code !== 0) {
        problems.push(`${file}: gpg --decrypt exit ${out.code}: ${out.stderr.trim().split('\n').at(-1) ?? ''}`);
        continue;
      }
      const recorded = await recordedSha256(path);
      if (recorded !== null && recorded !== out.sha256)
        problems.push(`${file}: decrypts to sha256 ${out.sha256}, the manifest records ${recorded}`);
    }
    return {
      probe,
      ok: problems.length === 0,
      detail:
        problems.length === 0
          ? `${files.length} file(s) decrypted by GnuPG to their recorded sha256`
          : problems.join('; '),
    };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

async function recordedSha256(gpgFile: string): Promise<string | null> {
  const manifest = await readFile(join(dirname(gpgFile), 'encrypted_manifest.json'), 'utf8').then(
    (t) => JSON.parse(t) as { files?: Record<string, { source_sha256?: string }> },
    () => null,
  );
  return manifest?.files?.[gpgFile.split('/').at(-1)!]?.source_sha256 ?? null;
}

/** Run gpg in a throwaway home; stdout is hashed, never kept (it is a whole archive). */
function gpg(home: string, args: string[]): Promise<{ code: number | null; stderr: string; sha256: string }> {
  return new Promise((resolve) => {
    const child = spawn('gpg', ['--homedir', home, '--batch', '--no-tty', '--quiet', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const hash = createHash('sha256');
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => hash.update(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (e) => resolve({ code: null, stderr: e.message, sha256: '' }));
    child.on('close', (code) => resolve({ code, stderr, sha256: hash.digest('hex') }));
  });
}
