import { execFile } from 'node:child_process';
import { cp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Buffer } from '../lib/checksum/index.ts';
import { runFullBackup } from '../lib/pipeline/backup.ts';
import { resolvePolicy } from '../lib/policy/index.ts';
import { copyFixture, REPO_ROOT, tempDir } from '../lib/testing.ts';
import {
  digestTree as digest,
  envelopeOf,
  expectNoStackTrace as noStackTrace,
  resultOf,
  runScript,
} from './testing.ts';
import { SAMPLE_ROOT } from '../sample/index.ts';

// scripts/emergency-restore.mts run as an operator runs it: a subprocess, its exit code, its
// stdout (--json) and stderr, and the files it leaves. `node --import tsx` starts in about
// half the time of `npx tsx` (which spawns npx, then tsx, then node), so that is used here.

const RESTORE = join(REPO_ROOT, 'scripts/emergency-restore.mts');
const FULL_BACKUP = join(REPO_ROOT, 'scripts/full-backup.mts');
const STATE = 'modules/zeroia/state/zeroia_state.toml';
const CORRUPT = '<<<<<<< HEAD\nlast_decision = "reduce"\n=======\nlast_decision = "monitor"\n>>>>>>> dev-migration\n';
const policy = resolvePolicy({}, 'built-in');

const restore = (args: string[], env?: Record<string, string>) => runScript(RESTORE, args, env);

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Staging folders the restore creates in the root; none may survive it. */
async function stagingLeft(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true })).filter((name) =>
    name.split('/').some((part) => part.startsWith('.ark-restore')),
  );
}

async function backupInProcess(root: string, backupDir: string, date: string): Promise<void> {
  await runFullBackup({ root, backupDir, date, policy, sink: () => {}, gitCommit: async () => null, host: 'test' });
}

/** Run tasks with at most `limit` at a time (2 cores), results in order. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

let fixtureState: Buffer;
beforeAll(async () => {
  fixtureState = await readFile(join(SAMPLE_ROOT, STATE));
});

describe('emergency-restore.mts: the happy path', () => {
  it('restores a corrupted zeroia state from a full-backup.mts backup, byte for byte, preserving the corrupted copy', async () => {
    const root = await copyFixture();
    const backupDir = await tempDir('ark-bk-');
    const backup = await runScript(FULL_BACKUP, ['--root', root, '--backup-dir', backupDir, '--date', '20260110']);
    expect(backup.code, backup.stderr).toBe(3); // the fixture's two conflict-marker files are reported, and archived anyway
    const pristine = await digest(root);
    await writeFile(join(root, STATE), CORRUPT);

    const run = await restore(['zeroia', '--root', root, '--backup-dir', backupDir, '--services', 'none', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect((await readFile(join(root, STATE))).equals(fixtureState)).toBe(true);
    expect(await digest(root)).toEqual(pristine); // nothing else in the root moved
    expect(await stagingLeft(root)).toEqual([]);

    expect(envelopeOf(run, 'emergency-restore')).toMatchObject({ ok: true, exit_code: 0, policy: 'built-in' });
    const result = resultOf(run);
    const backupFolder = join(backupDir, 'daily', 'arkalia_20260110');
    const manifest = JSON.parse(await readFile(join(backupFolder, 'backup_manifest_20260110.json'), 'utf8'));
    expect(result).toMatchObject({
      module: 'zeroia',
      dry_run: false,
      backup: { dir: backupFolder, date: '20260110', recovery_point: manifest.backup_date },
    });
    expect(result.changes).toContainEqual({
      path: STATE,
      action: 'replace',
      current_sha256: sha256Buffer(CORRUPT),
      backup_sha256: sha256Buffer(fixtureState),
    });
    expect(result.changes).toContainEqual(
      expect.objectContaining({ path: 'modules/zeroia/state/zeroia_decision_log.toml', action: 'unchanged' }),
    );

    expect(result.preserved_at.startsWith(join(backupDir, 'preserved') + '/')).toBe(true);
    expect(await readFile(join(result.preserved_at, 'zeroia_state.toml'), 'utf8')).toBe(CORRUPT);
    expect(run.stderr).toContain(`current state preserved: ${result.preserved_at}`);
    // Verified before anything else happened.
    expect(run.stderr.indexOf('checksum verified')).toBeGreaterThan(-1);
    expect(run.stderr.indexOf('checksum verified')).toBeLessThan(run.stderr.indexOf('current state preserved'));
  });
});

// The runbook's ark_full_backup.sh steps 1, 2, 4, 5 and 6, verbatim but for the two folder
// variables (taken from the arguments) and the manifest being optional; run from the root.
const RUNBOOK_BACKUP = String.raw`
BACKUP_ROOT="$1/daily"
DATE="$2"
BACKUP_DIR="$BACKUP_ROOT/arkalia_$DATE"
mkdir -p "$BACKUP_DIR"
tar -czf "$BACKUP_DIR/arkalia_states_$DATE.tar.gz" \
modules/*/state/ \
state/ \
global_state/ \
config/ \
.env 2>/dev/null
tar -czf "$BACKUP_DIR/arkalia_logs_$DATE.tar.gz" \
logs/ \
modules/*/logs/ 2>/dev/null
tar -czf "$BACKUP_DIR/arkalia_infra_$DATE.tar.gz" \
docker-compose.yml \
Dockerfile* \
scripts/ \
.github/ \
requirements.txt \
pyproject.toml 2>/dev/null
cd "$BACKUP_DIR"
sha256sum *.tar.gz > "checksums_$DATE.sha256"
if [ "$3" = with-manifest ]; then
cat > "backup_manifest_$DATE.json" << EOF
{
"backup_date": "$(date -Iseconds)",
"arkalia_version": "$(cat version.toml | grep current_version | cut -d'"' -f2)",
"backup_size_mb": $(du -sm "$BACKUP_DIR" | cut -f1),
"files_count": $(find "$BACKUP_DIR" -type f | wc -l),
"git_commit": "$(git rev-parse HEAD)",
"host": "$(hostname)",
"backup_type": "full_daily"
}
EOF
fi
`;

function runbookBackup(
  root: string,
  backupDir: string,
  date: string,
  manifest: 'with-manifest' | 'no-manifest',
): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', RUNBOOK_BACKUP, 'ark_full_backup.sh', backupDir, date, manifest], { cwd: root }, (error) =>
      error ? reject(error) : resolve(),
    );
  });
}

describe.concurrent('emergency-restore.mts: backups written by the original bash runbook', () => {
  for (const manifest of ['with-manifest', 'no-manifest'] as const) {
    it(`restores byte for byte from tar + sha256sum (${manifest})`, async ({ expect }) => {
      const root = await copyFixture();
      const backupDir = await tempDir('ark-runbook-');
      await runbookBackup(root, backupDir, '20241225', manifest);
      const folder = join(backupDir, 'daily', 'arkalia_20241225');
      expect((await readdir(folder)).sort()).toEqual(
        [
          'arkalia_infra_20241225.tar.gz',
          'arkalia_logs_20241225.tar.gz',
          'arkalia_states_20241225.tar.gz',
          'checksums_20241225.sha256',
          ...(manifest === 'with-manifest' ? ['backup_manifest_20241225.json'] : []),
        ].sort(),
      );
      const pristine = await digest(root);
      await writeFile(join(root, STATE), CORRUPT);

      const run = await restore([
        'zeroia',
        '20241225',
        '--root',
        root,
        '--backup-dir',
        backupDir,
        '--services',
        'none',
        '--json',
      ]);
      expect(run.code, run.stderr).toBe(0);
      expect((await readFile(join(root, STATE))).equals(fixtureState)).toBe(true);
      expect(await digest(root)).toEqual(pristine);
      const result = resultOf(run);
      expect(result.backup.recovery_point).toMatch(
        manifest === 'with-manifest' ? /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/ : /^2024-12-25$/,
      );
      expect(await readFile(join(result.preserved_at, 'zeroia_state.toml'), 'utf8')).toBe(CORRUPT);
    });
  }
});

describe('emergency-restore.mts: choosing the backup', () => {
  it('restores the requested date, the newest without one, and fails (exit 1) for a date or folder that does not exist', async () => {
    const root = await copyFixture();
    const backupDir = await tempDir('ark-bk-');
    await backupInProcess(root, backupDir, '20260110');
    const variantB = 'variant = "B"\n[decision]\nlast_decision = "newer"\n';
    await writeFile(join(root, STATE), variantB);
    await backupInProcess(root, backupDir, '20260111');

    await writeFile(join(root, STATE), CORRUPT);
    const dated = await restore([
      'zeroia',
      '20260110',
      '--root',
      root,
      '--backup-dir',
      backupDir,
      '--services',
      'none',
      '--json',
    ]);
    expect(dated.code, dated.stderr).toBe(0);
    expect(resultOf(dated).backup.date).toBe('20260110');
    expect((await readFile(join(root, STATE))).equals(fixtureState)).toBe(true);

    await writeFile(join(root, STATE), CORRUPT);
    const newest = await restore(['zeroia', '--root', root, '--backup-dir', backupDir, '--services', 'none', '--json']);
    expect(newest.code, newest.stderr).toBe(0);
    expect(resultOf(newest).backup.date).toBe('20260111');
    expect(await readFile(join(root, STATE), 'utf8')).toBe(variantB);

    await writeFile(join(root, STATE), CORRUPT);
    const before = await digest(root);
    const [missingDate, noFolder] = await Promise.all([
      restore(['zeroia', '20260112', '--root', root, '--backup-dir', backupDir, '--services', 'none']),
      restore(['zeroia', '--root', root, '--backup-dir', join(backupDir, 'no-such-folder'), '--services', 'none']),
    ]);
    expect(missingDate.code).toBe(1);
    expect(missingDate.stderr).toMatch(/no backup for 20260112 in .*; available: 20260111, 20260110/);
    expect(noFolder.code).toBe(1);
    expect(noFolder.stderr).toMatch(/no backup found in .*no-such-folder\/daily/);
    for (const run of [missingDate, noFolder]) noStackTrace(run);
    expect(await digest(root)).toEqual(before);
  });
});

describe('emergency-restore.mts: bad command lines are usage errors (exit 2) that change nothing', () => {
  it('refuses hostile module names, bad dates, unknown services and flags', async () => {
    const root = await copyFixture();
    const backupDir = await tempDir('ark-bk-');
    await backupInProcess(root, backupDir, '20260110');
    await writeFile(join(root, STATE), CORRUPT);
    const before = { root: await digest(root), backups: await digest(backupDir) };
    const common = ['--root', root, '--backup-dir', backupDir, '--services', 'none', '--json'];
    const names = ['../etc', 'zeroia/../../x', 'ZeroIA', 'a b', '$(id)', '', 'a'.repeat(200)];
    const cases: [string, string[], RegExp][] = [
      ...names.map((name): [string, string[], RegExp] => [
        `module ${JSON.stringify(name.slice(0, 20))}`,
        [name, ...common],
        /module must be a plain identifier/,
      ]),
      ['module -rf (read as flags)', ['-rf', ...common], /Unknown option '-r'/],
      ['module -rf after --', [...common, '--', '-rf'], /module must be a plain identifier/],
      [
        'date 2026-01-01',
        ['zeroia', '2026-01-01', ...common],
        /backup date must be a calendar date as YYYYMMDD, or a recovery point as YYYYMMDD_HHMM, got "2026-01-01"/,
      ],
      ['date 20260231', ['zeroia', '20260231', ...common], /backup date must be a calendar date/],
      [
        '--services podman',
        ['zeroia', ...common, '--services', 'podman'],
        /--services must be "compose", "docker" or "none", got "podman"/,
      ],
      ['unknown flag', ['zeroia', ...common, '--force'], /Unknown option '--force'/],
    ];
    const runs = await pool(
      cases.map(
        ([, args]) =>
          () =>
            restore(args),
      ),
      3,
    );
    cases.forEach(([label, , message], i) => {
      const run = runs[i]!;
      expect(run.code, `${label}: ${run.stderr}`).toBe(2);
      expect(run.stderr, label).toMatch(message);
      noStackTrace(run);
      expect(envelopeOf(run, 'emergency-restore'), label).toMatchObject({
        ok: false,
        exit_code: 2,
        error: { code: 'USAGE' },
      });
    });
    expect(await digest(root)).toEqual(before.root);
    expect(await digest(backupDir)).toEqual(before.backups);
    expect(await stagingLeft(root)).toEqual([]);
  });
});

describe.concurrent('emergency-restore.mts: integrity failures change nothing', () => {
  // One good backup of the fixture, copied for each case that damages it.
  let pristineBackups: string;
  beforeAll(async () => {
    pristineBackups = await tempDir('ark-bk-');
    await backupInProcess(await copyFixture(), pristineBackups, '20260110');
  });

  const FOLDER = 'daily/arkalia_20260110';
  const ARCHIVE = `${FOLDER}/arkalia_states_20260110.tar.gz`;
  const SUMS = `${FOLDER}/checksums_20260110.sha256`;

  /** A corrupted live root and a copy of the good backup, damaged by `damage`; restore; then compare. */
  async function failingRestore(module: string, damage: (backupDir: string) => Promise<void>) {
    const root = await copyFixture();
    await writeFile(join(root, STATE), CORRUPT);
    const backupDir = await tempDir('ark-bk-');
    await cp(pristineBackups, backupDir, { recursive: true });
    await damage(backupDir);
    const before = { root: await digest(root), backups: await digest(backupDir) };
    const run = await restore([module, '--root', root, '--backup-dir', backupDir, '--services', 'none', '--json']);
    noStackTrace(run);
    return {
      run,
      error: envelopeOf(run).error as { code: string; message: string },
      unchanged: async () => {
        expect(await digest(root)).toEqual(before.root);
        expect(await digest(backupDir)).toEqual(before.backups);
        expect(await exists(join(backupDir, 'preserved'))).toBe(false);
        expect(await stagingLeft(root)).toEqual([]);
      },
    };
  }

  it('a states archive with one flipped byte: exit 3', async ({ expect }) => {
    const { run, error, unchanged } = await failingRestore('zeroia', async (dir) => {
      const bytes = await readFile(join(dir, ARCHIVE));
      bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
      await writeFile(join(dir, ARCHIVE), bytes);
    });
    expect(run.code).toBe(3);
    expect(error.code).toBe('CHECKSUM_MISMATCH');
    expect(run.stderr).toMatch(
      /checksum verification failed .*\n\s+arkalia_states_20260110\.tar\.gz: sha256 [0-9a-f]{64} != expected [0-9a-f]{64}/,
    );
    expect(run.stderr).not.toContain('checksum verified');
    await unchanged();
  });

  it('the checksum file missing: exit 3, the archive nobody vouches for is not extracted', async ({ expect }) => {
    const { run, error, unchanged } = await failingRestore('zeroia', (dir) => rm(join(dir, SUMS)));
    expect(run.code).toBe(3);
    expect(error.code).toBe('CHECKSUM_FILE_MISSING');
    expect(run.stderr).toMatch(
      /has no readable checksums_20260110\.sha256, so arkalia_states_20260110\.tar\.gz cannot be verified: refusing to extract it/,
    );
    await unchanged();
  });

  it('the archive truncated and its checksum recomputed to match: exit 3 (corrupt archive)', async ({ expect }) => {
    const { run, error, unchanged } = await failingRestore('zeroia', async (dir) => {
      const archive = join(dir, ARCHIVE);
      await truncate(archive, Math.floor((await stat(archive)).size / 2));
      const sums = (await readFile(join(dir, SUMS), 'utf8')).replace(
        /^[0-9a-f]{64}(?=  arkalia_states_)/m,
        sha256Buffer(await readFile(archive)),
      );
      await writeFile(join(dir, SUMS), sums);
    });
    expect(run.code).toBe(3);
    expect(error.code).toBe('ARCHIVE_CORRUPT');
    expect(run.stderr).toContain('checksum verified'); // the recomputed checksum matched; reading the archive did not
    await unchanged();
  });

  it('the backup’s own zeroia state is invalid TOML: exit 3 naming the file', async ({ expect }) => {
    const { run, error, unchanged } = await failingRestore('zeroia', async (dir) => {
      await rm(join(dir, 'daily'), { recursive: true });
      const corruptedRoot = await copyFixture();
      await writeFile(join(corruptedRoot, STATE), CORRUPT);
      await backupInProcess(corruptedRoot, dir, '20260110'); // checksums valid, content bad
    });
    expect(run.code).toBe(3);
    expect(error.code).toBe('BACKUP_STATE_INVALID');
    expect(run.stderr).toMatch(/modules\/zeroia\/state\/zeroia_state\.toml: git merge-conflict markers/);
    await unchanged();
  });

  it('a module the backup holds no state for: exit 1', async ({ expect }) => {
    const { run, error, unchanged } = await failingRestore('sandozia', async () => {});
    expect(run.code).toBe(1);
    expect(error.code).toBe('MODULE_NOT_IN_BACKUP');
    expect(run.stderr).toMatch(
      /holds no state for module "sandozia" \(no modules\/sandozia\/state\/ in arkalia_states_20260110\.tar\.gz\)/,
    );
    await unchanged();
  });
});

describe('emergency-restore.mts --dry-run', () => {
  it('prints the plan with current and backup sha256 and changes nothing, not even a preserved copy', async () => {
    const root = await copyFixture();
    const backupDir = await tempDir('ark-bk-');
    await backupInProcess(root, backupDir, '20260110');
    await writeFile(join(root, STATE), CORRUPT);
    const before = { root: await digest(root), backups: await digest(backupDir) };
    const tmp = await tempDir('ark-tmp-');
    // --services docker: a dry run must not need (or touch) the Docker engine either.
    const run = await restore(
      ['zeroia', '--root', root, '--backup-dir', backupDir, '--services', 'docker', '--dry-run', '--json'],
      { TMPDIR: tmp },
    );
    expect(run.code, run.stderr).toBe(0);
    // A summary by default; every file, with both sha256, under -v.
    expect(run.stderr).toMatch(
      /^\[dry run\] plan: 1 file\(s\) to replace, 0 to create, 0 to remove, \d+ unchanged \(-v lists every file/m,
    );
    expect(run.stderr).not.toContain('current sha256');
    const verbose = await restore(
      ['zeroia', '--root', root, '--backup-dir', backupDir, '--services', 'docker', '--dry-run', '-v'],
      { TMPDIR: tmp },
    );
    expect(verbose.stderr).toContain(
      `[dry run] replace ${STATE} (current sha256 ${sha256Buffer(CORRUPT)}, backup sha256 ${sha256Buffer(fixtureState)})`,
    );
    expect(verbose.stderr).toMatch(
      /^\[dry run\] unchanged modules\/zeroia\/state\/\S+ \(current sha256 [0-9a-f]{64}, backup sha256 [0-9a-f]{64}\)$/m,
    );
    expect(run.stderr).toContain('[dry run] would stop and restart container zeroia');
    expect(run.stderr).toMatch(/\[dry run\] 1 file\(s\) would change; nothing was modified/);
    expect(envelopeOf(run)).toMatchObject({ ok: true });
    const result = resultOf(run);
    expect(result).toMatchObject({ dry_run: true, preserved_at: null, backup: { date: '20260110' } });
    expect(result.changes).toContainEqual({
      path: STATE,
      action: 'replace',
      current_sha256: sha256Buffer(CORRUPT),
      backup_sha256: sha256Buffer(fixtureState),
    });
    expect(await digest(root)).toEqual(before.root);
    expect(await digest(backupDir)).toEqual(before.backups);
    expect(await exists(join(backupDir, 'preserved'))).toBe(false);
    expect(await stagingLeft(root)).toEqual([]);
    expect((await readdir(tmp)).filter((n) => n.startsWith('ark-restore'))).toEqual([]); // its staging was cleaned up
  });
});
