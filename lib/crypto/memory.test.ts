// Memory must not grow with the archive: a ~200 MiB archive is encrypted (and decrypted in
// full to verify it) by the real script, then decrypted to a file by the lib, each in its own
// process, and each process's peak RSS stays well under 256 MiB (the plaintext alone is 200).
import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../testing.ts';
import { ourKeyPair, payloadFile } from './testing.ts';

const TSX = createRequire(import.meta.url).resolve('tsx');
const MiB = 1024 * 1024;
const SIZE = 200 * MiB;
const LIMIT_KIB = 256 * 1024;
// Preloaded into the child: reports its own peak RSS (KiB) on stderr as it exits.
const REPORT_RSS = `data:text/javascript,process.on('exit',()=>process.stderr.write('ARK_MAXRSS_KIB='+process.resourceUsage().maxRSS+'\\n'))`;

function node(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string; maxRssKiB: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, '--import', REPORT_RSS, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout, stderr, maxRssKiB: Number(/ARK_MAXRSS_KIB=(\d+)/.exec(stderr)?.[1] ?? NaN) }),
    );
  });
}

const DECRYPT_CHILD = `
import { decryptFile, readPrivateKeys } from ${JSON.stringify(join(REPO_ROOT, 'lib', 'crypto', 'index.ts'))};
const keys = await readPrivateKeys(process.env.SEC);
const result = await decryptFile({ source: process.env.SOURCE, target: process.env.TARGET, keys, expectedSha256: process.env.SHA });
process.stdout.write(JSON.stringify({ sha256: result.sha256, bytes: result.bytes }));
`;

describe('memory', { timeout: 60_000 }, () => {
  it('encrypting + verifying, then decrypting, a 200 MiB archive each stay well under 256 MiB of RSS', async () => {
    const work = await tempDir('ark-mem-');
    try {
      const date = '20260101';
      const dir = join(work, 'backup', 'daily', `arkalia_${date}`);
      await mkdir(dir, { recursive: true });
      const archive = `arkalia_states_${date}.tar.gz`;
      const sha = await payloadFile(join(dir, archive), SIZE);
      await writeFile(join(dir, `checksums_${date}.sha256`), `${sha}  ${archive}\n`);
      const key = await ourKeyPair(work, 'k');

      const started = Date.now();
      const encrypt = await node([
        join(REPO_ROOT, 'scripts', 'encrypted-backup.mts'),
        '--root',
        work,
        '--backup-dir',
        join(work, 'backup'),
        '--recipient',
        key.publicFile,
        '--verify-key',
        key.secretFile,
        '--json',
      ]);
      const encryptMs = Date.now() - started;
      expect(encrypt.code, encrypt.stderr).toBe(0);
      const report = JSON.parse(encrypt.stdout).result as {
        files: { action: string; verification: { level: string } }[];
      };
      expect(report.files).toEqual([
        expect.objectContaining({ action: 'encrypted', verification: expect.objectContaining({ level: 'full' }) }),
      ]);

      const decryptStarted = Date.now();
      const target = join(work, 'restored.tar.gz');
      const decrypt = await node(['--input-type=module', '-e', DECRYPT_CHILD], {
        SEC: key.secretFile,
        SOURCE: join(work, 'backup', 'encrypted', `${archive}.gpg`),
        TARGET: target,
        SHA: sha,
      });
      const decryptMs = Date.now() - decryptStarted;
      expect(decrypt.code, decrypt.stderr).toBe(0);
      expect(JSON.parse(decrypt.stdout)).toEqual({ sha256: sha, bytes: SIZE });

      console.log(
        `200 MiB: encrypt+verify ${encryptMs} ms, peak ${Math.round(encrypt.maxRssKiB / 1024)} MiB; decrypt ${decryptMs} ms, peak ${Math.round(decrypt.maxRssKiB / 1024)} MiB`,
      );
      expect(encrypt.maxRssKiB).toBeLessThan(LIMIT_KIB);
      expect(decrypt.maxRssKiB).toBeLessThan(LIMIT_KIB);
    } finally {
      await rm(work, { recursive: true, force: true }); // 600 MiB of test data
    }
  });
});
