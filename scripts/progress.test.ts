import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../lib/testing.ts';
import { SAMPLE_ROOT } from '../sample/index.ts';
import { runScript } from './testing.ts';

// Progress as an operator sees it: on a terminal (a pseudo-terminal, util-linux `script`),
// one line redrawn in place for each long piece of work; off a terminal nothing, unless -v.

const run = promisify(execFile);
const TSX = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const CLEAR = '\r\x1b[2K';

/** The script on a pseudo-terminal of `columns` columns: what the terminal received. */
async function onTerminal(script: string, args: string[], columns = 200): Promise<string> {
  const argv = [
    process.execPath,
    '--no-warnings',
    '--import',
    TSX,
    join(REPO_ROOT, 'scripts', `${script}.mts`),
    ...args,
  ];
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ARK_')));
  const { stdout } = await run('script', ['-qec', `stty cols ${columns}; ${quoted}; true`, '/dev/null'], {
    env,
    timeout: 90_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

describe.concurrent('progress', { timeout: 180_000 }, () => {
  it('restore, verify and backup draw their progress on a terminal (also one that reports 0 columns); off a terminal only with -v', async ({
    expect,
  }) => {
    const root = await tempDir('ark-prog-root-');
    await cp(SAMPLE_ROOT, root, { recursive: true });
    // Big enough that each step lasts longer than the terminal's redraw interval (100 ms).
    await writeFile(join(root, 'modules', 'zeroia', 'state', 'zeroia_embeddings.json'), randomBytes(48 * 1024 * 1024));
    const backupDir = await tempDir('ark-prog-bk-');
    const common = ['--root', root, '--backup-dir', backupDir];
    const backup = await onTerminal('full-backup', [...common, '--date', '20261101']);
    expect(backup).toContain(`${CLEAR}arkalia_states_20261101.tar.gz `);

    const [restore, verify, zero] = await Promise.all([
      onTerminal('emergency-restore', ['zeroia', ...common, '--services', 'none']),
      onTerminal('verify', ['--daily', ...common]),
      onTerminal('emergency-restore', ['zeroia', ...common, '--services', 'none', '--dry-run'], 0),
    ]);
    expect(restore).toMatch(/\r\x1b\[2Kverifying arkalia_states_20261101\.tar\.gz \S+ \S+ \/ /);
    // One module's state: only the runs of the states archive that hold it are read.
    expect(restore).toMatch(
      /\r\x1b\[2Krestoring from arkalia_states_20261101\.tar\.gz \(\d+ of its \d+ runs\) \S+ \S+ \/ .*files/,
    );
    expect(verify).toMatch(/\r\x1b\[2Kverifying (arkalia|ollama)_\w+_20261101\.tar\.gz /);
    // 0 columns (unknown width): the line is drawn whole, not cut to a stub.
    const drawn = zero.split(CLEAR).filter((l) => l.startsWith('verifying '));
    expect(drawn.length).toBeGreaterThan(0);
    expect(drawn[0]!.length).toBeGreaterThan(40);

    // Off a terminal (cron, CI logs): no progress at all; with -v, plain lines.
    const [quiet, verbose] = await Promise.all([
      runScript('emergency-restore', ['zeroia', ...common, '--services', 'none']),
      runScript('emergency-restore', ['zeroia', ...common, '--services', 'none', '-v']),
    ]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toMatch(/^… /m);
    expect(quiet.stderr).not.toContain('\x1b');
    expect(verbose.stderr).toMatch(/^… (verifying|restoring from) arkalia_states_20261101\.tar\.gz /m);
    expect(verbose.stderr).not.toContain('\x1b');
  });
});
