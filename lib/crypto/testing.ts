// Test helpers for crypto (not used by production code): throwaway GnuPG homes, key pairs,
// payload files.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateKeyPair, writeKeyPair } from './generate-key.ts';

const run = promisify(execFile);

export interface GpgResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export interface GnupgHome {
  home: string;
  /** gpg --homedir HOME --batch --pinentry-mode loopback [--passphrase P] ...args */
  gpg(args: string[], options?: { passphrase?: string }): Promise<GpgResult>;
  /** Like gpg() but throws (with gpg's stderr) on a non-zero exit. */
  gpgOk(args: string[], options?: { passphrase?: string }): Promise<GpgResult>;
  /** Generate an ed25519/cv25519 key pair with GnuPG itself; returns its fingerprint. */
  generate(userId: string, passphrase: string): Promise<string>;
  close(): Promise<void>;
}

/** A GnuPG home in a temp folder (short path: the agent's socket must fit). Close it to stop its agent. */
export async function gnupgHome(): Promise<GnupgHome> {
  const home = await mkdtemp(join(tmpdir(), 'gpg-'));
  const gpg = (args: string[], options: { passphrase?: string } = {}): Promise<GpgResult> =>
    new Promise((resolve, reject) => {
      const pass = options.passphrase === undefined ? [] : ['--passphrase', options.passphrase];
      const child = spawn(
        'gpg',
        ['--homedir', home, '--batch', '--no-tty', '--yes', '--pinentry-mode', 'loopback', ...pass, ...args],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const out: Buffer[] = [];
      let stderr = '';
      child.stdout!.on('data', (c: Buffer) => out.push(c));
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
    });
  const gpgOk = async (args: string[], options?: { passphrase?: string }) => {
    const result = await gpg(args, options);
    if (result.code !== 0) throw new Error(`gpg ${args.join(' ')} exited ${result.code}:\n${result.stderr}`);
    return result;
  };
  return {
    home,
    gpg,
    gpgOk,
    async generate(userId, passphrase) {
      await gpgOk(['--quick-generate-key', userId, 'future-default', 'default', 'never'], { passphrase });
      const listing = (await gpgOk(['--with-colons', '--list-secret-keys', userId])).stdout.toString();
      return /^fpr:+([0-9A-F]{40}):/m.exec(listing)![1]!;
    },
    async close() {
      await run('gpgconf', ['--homedir', home, '--kill', 'gpg-agent']).catch(() => {});
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** A key pair of ours written as <dir>/<name>.pub.asc and .sec.asc. */
export async function ourKeyPair(dir: string, name: string, options: { passphrase?: string; userId?: string } = {}) {
  const pair = await generateKeyPair(options);
  const files = await writeKeyPair(dir, name, pair);
  return { ...files, info: pair.info, unlocked: pair.unlocked };
}

/** A file of `bytes` pseudo-random bytes (1 MiB of randomness repeated); returns its sha256. */
export async function payloadFile(path: string, bytes: number): Promise<string> {
  const block = randomBytes(Math.min(bytes, 1 << 20));
  const handle = await open(path, 'w');
  const hash = createHash('sha256');
  try {
    for (let written = 0; written < bytes; written += block.length) {
      const chunk = block.subarray(0, Math.min(block.length, bytes - written));
      hash.update(chunk);
      await handle.write(chunk);
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

export async function sha256Of(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Flip one bit at `offset` (negative: from the end) of a copy of `source` written to `target`. */
export async function flipByte(source: string, target: string, offset: number): Promise<void> {
  const bytes = Buffer.from(await readFile(source));
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] = bytes[at]! ^ 0x01;
  await writeFile(target, bytes);
}
