import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyFixture, REPO_ROOT, tempDir } from '../testing.ts';
import { runBackupPhase } from './backup-phase.ts';
import { type BenchTools, dailyOf } from './bench-files.ts';
import { makeBenchKey, runEncryptPhase, stopAgent } from './encrypt-phase.ts';
import { createRecorder } from './recorder.ts';
import type { BenchPaths } from './scenarios.ts';

// The bench's encrypt phase on the sample root, as scripts/bench.mts runs it after the backup
// phase: a throwaway key, the runbook's gpg with its defaults (the baseline) and without
// compression, then our encrypted-backup; what ours wrote, gpg decrypts to the backup's bytes.

const NO_TOOLS: BenchTools = { gnuTar: false, pigz: false, zstd: false, gpg: true, restic: false, time: false };

describe('bench: the encrypt phase', { timeout: 120_000 }, () => {
  it('times gpg (defaults, then no compression) and encrypted-backup with a throwaway key; gpg reads what ours wrote', async () => {
    const root = await copyFixture();
    const base = await tempDir('ark-bench-encrypt-');
    const policy = join(base, 'bench.policy.toml');
    await writeFile(policy, '# the built-in policy\n');
    const paths: BenchPaths = { repo: REPO_ROOT, root, modelsParent: root, policy };
    const { record, results } = createRecorder(() => {});
    const out = join(base, 'out');
    const policies = { policy, zstd: policy, logsLevel6: policy };
    const restic = { repo: join(out, 'restic'), cache: join(base, 'restic-cache') };
    await runBackupPhase({ paths, out, record, tools: NO_TOOLS, policies, restic, variants: false });
    const key = await makeBenchKey(join(base, 'gnupg'), join(base, 'bench-public.asc'));
    try {
      expect(await readFile(key.publicKey, 'utf8')).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
      await runEncryptPhase({ paths, out, policy, key, record, encryptAll: false });
      const rows = results().filter((r) => r.phase === 'encrypt');
      expect(rows.map((r) => [r.tool, r.baseline, r.runs.map((m) => m.code), r.note])).toEqual([
        ['runbook: gpg --encrypt (defaults) + decrypt | sha256sum', true, [0], 'encrypts the states archive'],
        ['runbook, gpg --compress-algo none', false, [0], undefined],
        ['arkalia-dr encrypted-backup (verified)', false, [0], undefined],
      ]);
      expect(await readdir(join(out, 'runbook-gpg'))).toEqual(
        expect.arrayContaining([expect.stringMatching(/^arkalia_states_\d{8}\.tar\.gz\.gpg$/)]),
      );
      const encrypted = (await readdir(join(out, 'ours', 'encrypted'), { recursive: true })).find((f) =>
        /arkalia_states_20260101\.tar\.gz\.gpg$/.test(f),
      );
      expect(encrypted).toBeDefined();
      const decrypted = spawnSync(
        'gpg',
        ['--batch', '--quiet', '--decrypt', join(out, 'ours', 'encrypted', encrypted!)],
        {
          env: { ...process.env, GNUPGHOME: key.gnupgHome },
          maxBuffer: 64 * 1024 * 1024,
        },
      );
      expect(decrypted.status, decrypted.stderr.toString()).toBe(0);
      expect(
        decrypted.stdout.equals(await readFile(join(dailyOf(join(out, 'ours')), 'arkalia_states_20260101.tar.gz'))),
      ).toBe(true);
    } finally {
      stopAgent(key.gnupgHome);
    }
  });
});
