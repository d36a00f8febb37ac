import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freshDir } from './bench-files.ts';
import type { RecordRun } from './points-phase.ts';
import { type BenchPaths, oursScript, runbookEncrypt } from './scenarios.ts';

// The bench's "encrypt" phase: ark_encrypted_backup.sh's `gpg --encrypt` with gpg's defaults
// (the baseline) and with `--compress-algo none`, each followed by its decrypt | sha256sum,
// against our encrypted-backup (which verifies what it wrote), with a throwaway key.

export interface BenchKey {
  gnupgHome: string;
  recipient: string;
  /** The public key, armoured, as encrypted-backup's --recipient takes it. */
  publicKey: string;
}

/** A new passphrase-less key in `gnupgHome` (emptied first: a key left by an interrupted run). */
export async function makeBenchKey(gnupgHome: string, publicKey: string): Promise<BenchKey> {
  const recipient = 'bench@arkalia.invalid';
  await freshDir(gnupgHome);
  await chmod(gnupgHome, 0o700);
  const env = { ...process.env, GNUPGHOME: gnupgHome };
  const quick = ['--quick-gen-key', `Arkalia bench <${recipient}>`, 'default', 'default', 'never'];
  execFileSync('gpg', ['--batch', '--quiet', '--passphrase', '', '--pinentry-mode', 'loopback', ...quick], {
    env,
    stdio: 'ignore',
  });
  await writeFile(publicKey, execFileSync('gpg', ['--armor', '--export', recipient], { env }));
  return { gnupgHome, recipient, publicKey };
}

/** Stops the gpg-agent a key's home started (the bench's end). */
export function stopAgent(gnupgHome: string): void {
  if (existsSync(gnupgHome))
    spawnSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: gnupgHome }, stdio: 'ignore' });
}

export interface EncryptPhaseOptions {
  paths: BenchPaths;
  /** The bench's output folder: out/runbook and out/ours hold the backup phase's archives. */
  out: string;
  policy: string;
  key: BenchKey;
  record: RecordRun;
  /** Every archive (--encrypt-all) or only the states, as the runbook's script does. */
  encryptAll: boolean;
}

const PHASE = 'encrypt';

export async function runEncryptPhase(options: EncryptPhaseOptions): Promise<void> {
  const { paths, record, key } = options;
  const out = (name: string) => join(options.out, name);
  const files = (await readdir(out('runbook'))).filter(
    (f) => f.endsWith('.tar.gz') && (options.encryptAll || f.startsWith('arkalia_states_')),
  );
  // gpg's defaults are the runbook's own command: the baseline.
  const gpg = async (tool: string, name: string, compress: boolean, note?: string) =>
    record(
      PHASE,
      tool,
      /* baseline */ compress,
      runbookEncrypt(out('runbook'), await freshDir(out(name)), key.gnupgHome, key.recipient, files, compress),
      out(name),
      note,
    );
  await gpg(
    'runbook: gpg --encrypt (defaults) + decrypt | sha256sum',
    'runbook-gpg',
    true,
    `encrypts ${options.encryptAll ? 'every archive' : 'the states archive'}`,
  );
  await gpg('runbook, gpg --compress-algo none', 'runbook-gpg-none', false);
  await rm(join(out('ours'), 'encrypted'), { recursive: true, force: true });
  const args = ['--backup-dir', out('ours'), '--policy', options.policy, '--recipient', key.publicKey];
  await record(
    PHASE,
    'arkalia-dr encrypted-backup (verified)',
    false,
    oursScript(paths, 'encrypted-backup.mts', args),
    join(out('ours'), 'encrypted'),
  );
}
