import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../lib/testing.ts';
import { SAMPLE_ROOT } from '../sample/index.ts';
import { ARK_COMMANDS } from './cli/ark-commands.ts';
import { envelopeOf, expectNoStackTrace, runScript } from './testing.ts';

// `ark`, the one command (package.json bin): run as npm links it, `node bin/ark.mjs`, with
// no tsx preloaded; each command is the operator script itself. Here from the sources
// (ARK_FROM_SOURCES=1); dist.test.ts runs the same commands on the bundle.

const ARK = join(REPO_ROOT, 'bin', 'ark.mjs');

function ark(args: string[], cwd = REPO_ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  // The TypeScript sources, whatever state dist/ is in (dist.test.ts runs the bundle).
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ARK_'))),
    ARK_FROM_SOURCES: '1',
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [ARK, ...args], { cwd, env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe.concurrent('ark', { timeout: 120_000 }, () => {
  it('is the bin, answers --version and --help, and names a mistyped command (exit 2)', async ({ expect }) => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ ark: 'bin/ark.mjs' });
    const [version, help, none, typo, backupVersion] = await Promise.all([
      ark(['--version']),
      ark(['--help']),
      ark([]),
      ark(['bakup', '--root', '/x']),
      ark(['backup', '--version']),
    ]);
    expect(version).toMatchObject({ code: 0, stdout: `arkalia-dr ${pkg.version} (node ${process.versions.node})\n` });
    expect(backupVersion.stdout).toBe(version.stdout);
    expect(help.code).toBe(0);
    for (const [name, c] of Object.entries(ARK_COMMANDS)) {
      expect(help.stdout).toMatch(new RegExp(`^  ${name} +\\S.*\\(scripts/${c.script}\\.mts\\)$`, 'm'));
      expect(existsSync(join(REPO_ROOT, 'scripts', `${c.script}.mts`)), c.script).toBe(true);
    }
    expect(none).toMatchObject({ code: 2, stdout: help.stdout });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('✗ ark: unknown command "bakup" (did you mean backup?); ark --help lists them\n');
  });

  it('each command is its script: same --help, same usage errors and exit codes', async ({ expect }) => {
    const [viaArk, viaScript] = await Promise.all([ark(['backup', '--help']), runScript('full-backup', ['--help'])]);
    expect(viaArk.code).toBe(0);
    expect(viaArk.stdout).toBe(viaScript.stdout);
    const empty = await tempDir('ark-cwd-');
    const noRoot = await ark(['recover', '--backup-dir', empty], empty);
    expect(noRoot.code).toBe(2);
    expect(noRoot.stderr).toMatch(/disaster-recovery writes into the Arkalia root: name it with --root DIR/);
    expectNoStackTrace(noRoot);
    const both = await ark(['list', '-q', '-v', '--backup-dir', empty]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/-q\/--quiet and -v\/--verbose cannot be combined/);
  });

  it('-q prints only what is wrong; ark list shows the backup it made, as text and --json', async ({ expect }) => {
    const root = await tempDir('ark-root-');
    await cp(SAMPLE_ROOT, root, { recursive: true });
    const backupDir = await tempDir('ark-bk-');
    const common = ['--root', root, '--backup-dir', backupDir];
    const quiet = await ark(['backup', '-q', ...common]);
    expect(quiet.code, quiet.stderr).toBe(3); // the sample holds two invalid state files, named
    const lines = quiet.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^\s*(⚠|✗)/);
    const loud = await runScript('full-backup', [...common, '--date', '20200101']);
    expect(loud.stderr.split('\n').length).toBeGreaterThan(lines.length + 3);

    const [text, json] = await Promise.all([ark(['list', ...common]), ark(['list', '--json', ...common])]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^ {2}POINT +TAKEN +SIZE \(\+NEW\) +ARCHIVES +RECOVERY POINT +LAST VERIFIED$/m);
    expect(text.stdout).toMatch(/^ {2}arkalia_20200101 +2020-01-01 .* never$/m);
    const envelope = envelopeOf(json, 'list');
    expect(envelope).toMatchObject({ ok: true, exit_code: 0, policy: null, error: null });
    const listed = envelope.result as { backup_dir: string; backups: Record<string, unknown>[] };
    expect(listed.backup_dir).toBe(backupDir);
    expect(listed.backups).toHaveLength(2);
    expect(listed.backups[1]).toMatchObject({ name: 'arkalia_20200101', kind: 'daily', complete: true });
  });
});
