import { cp, mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { gzipBomb } from '../archive/testing.ts';
import { sha256Buffer, sha256File } from '../checksum/index.ts';
import { recordingSink } from '../events.ts';
import { noneController, type ServiceController } from '../services/index.ts';
import { formatStamp } from '../snapshot/index.ts';
import { samplePolicy } from '../policy/testing.ts';
import { copyFixture, tempDir, treeContents } from '../testing.ts';
import { runFullBackup } from './backup.ts';
import { emergencyRestore } from './emergency-restore.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';

// The shared pipeline through emergencyRestore (one module's state): fallback past every kind
// of broken newest backup, a named backup never replaced, newer snapshots used per file, dry
// runs that change nothing, SIGTERM during the swap.

const STATE = 'modules/zeroia/state/zeroia_state.toml';
const CORRUPT = '<<<<<<< HEAD\nlast_decision = "a"\n=======\nlast_decision = "b"\n>>>>>>> dev\n';
const NEWER = 'variant = "newer"\n';
const policy = samplePolicy();
const OLD = 'daily/arkalia_20260110';
const NEW = 'daily/arkalia_20260111';

let pristine: string;
let fixtureState: Buffer;
beforeAll(async () => {
  fixtureState = await readFile(join(SAMPLE_ROOT, STATE));
  pristine = await tempDir('ark-bk-');
  const root = await copyFixture();
  const backup = (date: string) =>
    runFullBackup({
      root,
      backupDir: pristine,
      date,
      policy,
      sink: () => {},
      gitCommit: async () => null,
      host: 'test',
    });
  await backup('20260110');
  await writeFile(join(root, STATE), NEWER);
  await backup('20260111');
});

/** A corrupted live root beside a copy of the two backups (20260110 = the fixture, 20260111 = NEWER). */
async function scene() {
  const root = await copyFixture();
  await writeFile(join(root, STATE), CORRUPT);
  const backupDir = await tempDir('ark-bk-');
  await cp(pristine, backupDir, { recursive: true });
  return { root, backupDir };
}

async function digest(dir: string): Promise<Record<string, string>> {
  return Object.fromEntries([...(await treeContents(dir))].map(([path, content]) => [path, sha256Buffer(content)]));
}

async function rewriteChecksum(backupDir: string, folder: string, archive: string): Promise<void> {
  const date = folder.slice(-8);
  const sums = join(backupDir, folder, `checksums_${date}.sha256`);
  const { sha256 } = await sha256File(join(backupDir, folder, archive));
  await writeFile(
    sums,
    (await readFile(sums, 'utf8')).replace(new RegExp(`^[0-9a-f]{64}(?=  ${archive})`, 'm'), sha256),
  );
}

const archiveOf = (folder: string) => `${folder}/arkalia_states_${folder.slice(-8)}.tar.gz`;

/** Every way the newest backup can fail verification, and the code it is rejected with. */
const DAMAGE: [string, string, (backupDir: string) => Promise<void>][] = [
  [
    'a flipped byte (checksum mismatch)',
    'CHECKSUM_MISMATCH',
    async (dir) => {
      const bytes = await readFile(join(dir, archiveOf(NEW)));
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      await writeFile(join(dir, archiveOf(NEW)), bytes);
    },
  ],
  [
    'a truncated archive whose checksum was recomputed',
    'ARCHIVE_CORRUPT',
    async (dir) => {
      await truncate(join(dir, archiveOf(NEW)), Math.floor((await stat(join(dir, archiveOf(NEW)))).size / 2));
      await rewriteChecksum(dir, NEW, 'arkalia_states_20260111.tar.gz');
    },
  ],
  ['a missing checksum file', 'CHECKSUM_FILE_MISSING', (dir) => rm(join(dir, NEW, 'checksums_20260111.sha256'))],
  ['a missing states archive', 'STATES_ARCHIVE_MISSING', (dir) => rm(join(dir, archiveOf(NEW)))],
  [
    'invalid TOML inside (checksums valid)',
    'BACKUP_STATE_INVALID',
    async (dir) => {
      await rm(join(dir, NEW), { recursive: true });
      const bad = await copyFixture();
      await writeFile(join(bad, STATE), CORRUPT);
      await runFullBackup({
        root: bad,
        backupDir: dir,
        date: '20260111',
        policy,
        sink: () => {},
        gitCommit: async () => null,
        host: 'test',
      });
    },
  ],
  [
    'a decompression bomb (checksum recomputed)',
    'ARCHIVE_LIMIT_EXCEEDED',
    async (dir) => {
      await writeFile(join(dir, archiveOf(NEW)), gzipBomb(64 * 1024 * 1024, 'modules/zeroia/state/zeroia_state.toml'));
      await rewriteChecksum(dir, NEW, 'arkalia_states_20260111.tar.gz');
    },
  ],
];

describe.concurrent('fallback past a newest backup that fails verification', () => {
  for (const [label, code, damage] of DAMAGE) {
    it(label, async ({ expect }) => {
      const { root, backupDir } = await scene();
      await damage(backupDir);
      const sink = recordingSink();
      const report = await emergencyRestore({
        root,
        backupDir,
        module: 'zeroia',
        policy,
        services: noneController,
        sink,
        limits: code === 'ARCHIVE_LIMIT_EXCEEDED' ? { maxBytes: 32 * 1024 * 1024 } : {},
      });
      expect(report.backup.date).toBe('20260110');
      expect(report.rejected).toEqual([
        { backup: 'arkalia_20260111', dir: join(backupDir, NEW), date: '20260111', code, reason: expect.any(String) },
      ]);
      expect(
        sink.events.filter((e) => e.kind === 'backup-selected').map((e) => (e as { source: string }).source),
      ).toEqual(['newest', 'fallback: the newest that passes verification (1 newer rejected)']);
      expect(sink.events).toContainEqual(
        expect.objectContaining({ kind: 'backup-rejected', backup: 'arkalia_20260111', code }),
      );
      expect((await readFile(join(root, STATE))).equals(fixtureState)).toBe(true);
      expect(await leftovers(root)).toEqual([]);
    });
  }
});

describe('choosing the backup', () => {
  it('a backup named by date is never silently replaced: its failure is the error, nothing changes', async () => {
    const { root, backupDir } = await scene();
    await DAMAGE[0]![2](backupDir);
    const before = { root: await digest(root), backups: await digest(backupDir) };
    const error = await emergencyRestore({
      root,
      backupDir,
      module: 'zeroia',
      date: '20260111',
      policy,
      services: noneController,
      sink: recordingSink(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CHECKSUM_MISMATCH', exitCode: 3 });
    expect(await digest(root)).toEqual(before.root);
    expect(await digest(backupDir)).toEqual(before.backups);
  });

  it('when every backup fails: NO_VALID_BACKUP (exit 3) naming each with its reason, and nothing changes', async () => {
    const { root, backupDir } = await scene();
    await DAMAGE[0]![2](backupDir);
    await rm(join(backupDir, OLD, 'checksums_20260110.sha256'));
    const before = await digest(root);
    const error = await emergencyRestore({
      root,
      backupDir,
      module: 'zeroia',
      policy,
      services: noneController,
      sink: recordingSink(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'NO_VALID_BACKUP',
      exitCode: 3,
      details: {
        rejected: [
          { backup: 'arkalia_20260111', code: 'CHECKSUM_MISMATCH' },
          { backup: 'arkalia_20260110', code: 'CHECKSUM_FILE_MISSING' },
        ],
      },
    });
    expect((error as Error).message).toMatch(
      /no backup passes verification; rejected, newest first:\n {2}arkalia_20260111 \(CHECKSUM_MISMATCH\): .*\n {2}arkalia_20260110 \(CHECKSUM_FILE_MISSING\): /,
    );
    expect(await digest(root)).toEqual(before);
  });
});

describe('real-time snapshots newer than the backup', () => {
  it('are used for their files (valid ones only), and the report gives each file its recovery point', async () => {
    const { root, backupDir } = await scene();
    const at = (offsetMs: number) => formatStamp(new Date(Date.now() + offsetMs));
    const snap = async (path: string, stamp: string, content: string) => {
      const file = join(backupDir, 'realtime', `${path}.${stamp}`);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
    };
    const stamp = at(60_000);
    await snap(STATE, stamp, 'from_snapshot = true\n');
    await snap(STATE, at(120_000), '<<<<<<< HEAD\nbroken\n'); // newer, but invalid: skipped
    await snap('modules/zeroia/state/zeroia_decision_log.toml', '20200101_000000', 'too_old = true\n'); // older than the backup: not used
    const sink = recordingSink();
    const report = await emergencyRestore({
      root,
      backupDir,
      module: 'zeroia',
      policy,
      services: noneController,
      sink,
    });
    expect(await readFile(join(root, STATE), 'utf8')).toBe('from_snapshot = true\n');
    expect(report.backup.date).toBe('20260111');
    const points = Object.fromEntries(report.recoveryPoints.map((p) => [p.path, p]));
    expect(points[STATE]).toEqual({
      path: STATE,
      source: 'snapshot',
      at: expect.any(String),
      snapshot: `realtime/${STATE}.${stamp}`,
    });
    expect(new Date(points[STATE]!.at!).getTime()).toBeGreaterThan(new Date(report.backup.recoveryPoint!).getTime());
    expect(points['modules/zeroia/state/zeroia_decision_log.toml']).toEqual({
      path: 'modules/zeroia/state/zeroia_decision_log.toml',
      source: 'backup',
      at: report.backup.recoveryPoint,
    });
    expect(sink.events).toContainEqual(expect.objectContaining({ kind: 'snapshot-used', path: STATE }));
    expect(sink.events).toContainEqual(
      expect.objectContaining({ kind: 'warning', code: 'SNAPSHOT_INVALID', path: STATE }),
    );

    // A named date means that backup as it was: no snapshots.
    await writeFile(join(root, STATE), CORRUPT);
    const dated = await emergencyRestore({
      root,
      backupDir,
      module: 'zeroia',
      date: '20260111',
      policy,
      services: noneController,
      sink: recordingSink(),
    });
    expect(await readFile(join(root, STATE), 'utf8')).toBe(NEWER);
    expect(dated.recoveryPoints.every((p) => p.source === 'backup')).toBe(true);
  });
});

describe('dry run', () => {
  it('plans (rejected backups included) and changes nothing: live tree, backup folder, no staging, no lock, no service touched', async () => {
    const { root, backupDir } = await scene();
    await DAMAGE[0]![2](backupDir);
    const before = { root: await digest(root), backups: await digest(backupDir), beside: await readdir(dirname(root)) };
    const touched: string[] = [];
    const services = spyServices(touched);
    const sink = recordingSink();
    const report = await emergencyRestore({ root, backupDir, module: 'zeroia', policy, services, sink, dryRun: true });
    expect(report).toMatchObject({
      dryRun: true,
      preservedAt: null,
      service: null,
      backup: { date: '20260110' },
      rejected: [{ backup: 'arkalia_20260111' }],
    });
    expect(sink.events).toContainEqual({
      kind: 'dry-run',
      detail: true,
      message: `replace ${STATE} (current sha256 ${sha256Buffer(CORRUPT)}, backup sha256 ${sha256Buffer(fixtureState)})`,
    });
    expect(sink.events).toContainEqual({
      kind: 'dry-run',
      message: expect.stringMatching(/^plan: 1 file\(s\) to replace, 0 to create, 0 to remove, \d+ unchanged/),
    });
    expect(sink.events).toContainEqual({ kind: 'dry-run', message: 'would stop and restart container zeroia' });
    expect(touched).toEqual([]);
    expect(await digest(root)).toEqual(before.root);
    expect(await digest(backupDir)).toEqual(before.backups);
    expect(await readdir(dirname(root))).toEqual(before.beside);
  });
});

describe('files already right', () => {
  it('are not staged again, yet one written to between staging and the swap is restored from the backup', async () => {
    const { root, backupDir } = await scene();
    const LOG = 'modules/zeroia/state/zeroia_decision_log.toml';
    const backupLog = await readFile(join(root, LOG)); // the live log is the backup's
    let stagedThen: string[] = [];
    const report = await emergencyRestore({
      root,
      backupDir,
      module: 'zeroia',
      policy,
      services: noneController,
      sink: recordingSink(),
      pauseAt: async (at) => {
        if (at !== 'staged') return;
        const workspace = (await readdir(dirname(root))).find((n) => n.startsWith('.ark-restore-'))!;
        const staging = join(dirname(root), workspace, 'staged');
        stagedThen = (await readdir(staging, { recursive: true })).filter((n) => n.endsWith('.toml')).sort();
        await writeFile(join(root, LOG), 'written = "after staging"\n'); // a service still running
      },
    });
    expect(stagedThen).toEqual([STATE]); // only the corrupted one: the log was already right
    expect(await readFile(join(root, STATE), 'utf8')).toBe(NEWER);
    expect((await readFile(join(root, LOG))).equals(backupLog)).toBe(true);
    expect(Object.fromEntries(report.changes.map((c) => [c.path, c.action]))).toEqual({
      [LOG]: 'replace',
      [STATE]: 'replace',
    });
    expect(await leftovers(root)).toEqual([]);
  });
});

describe('SIGTERM during the swap', () => {
  it('rolls back before returning, restarts the service, and says so (RESTORE_INTERRUPTED)', async () => {
    const { root, backupDir } = await scene();
    await writeFile(join(root, 'modules/zeroia/state/zz_extra.toml'), 'extra = 1\n'); // a second change: replace, then remove
    const before = await digest(root);
    const controller = new AbortController();
    const touched: string[] = [];
    const error = await emergencyRestore({
      root,
      backupDir,
      module: 'zeroia',
      policy,
      services: spyServices(touched),
      sink: recordingSink(),
      signal: controller.signal,
      pauseAt: async (at) => {
        if (at === 'swap:1') controller.abort(new Error('received SIGTERM'));
      },
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'RESTORE_INTERRUPTED',
      exitCode: 1,
      message: expect.stringContaining('received SIGTERM'),
    });
    expect(await digest(root)).toEqual(before);
    expect(touched).toEqual(['stop zeroia', 'start zeroia']);
    expect(await leftovers(root)).toEqual([]);
    expect(await stat(join(backupDir, 'preserved')).catch(() => null)).toBeNull();
  });
});

function spyServices(touched: string[]): ServiceController {
  return {
    kind: 'docker',
    stop: async (t) => (touched.push(`stop ${t.container}`), true),
    start: async (t) => void touched.push(`start ${t.container}`),
    waitHealthy: async (t) => (touched.push(`wait ${t.container}`), { healthy: true, via: 'http', detail: 'ok' }),
    logsTail: async () => '',
  };
}

/** Journal, workspaces or sidecars left in or beside the root. */
async function leftovers(root: string): Promise<string[]> {
  const inside = (await readdir(root, { recursive: true })).filter((n) =>
    n.split('/').some((p) => p.startsWith('.ark-restore')),
  );
  const beside = (await readdir(dirname(root))).filter((n) => n.startsWith('.ark-restore'));
  return [...inside, ...beside];
}
