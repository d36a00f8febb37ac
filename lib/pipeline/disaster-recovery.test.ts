import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Buffer, sha256File } from '../checksum/index.ts';
import { ServiceError } from '../errors.ts';
import { recordingSink, type ArkEvent } from '../events.ts';
import { archiveCandidate } from '../restore/index.ts';
import { noneController, type ServiceController } from '../services/index.ts';
import { samplePolicy } from '../policy/testing.ts';
import { copyFixture, tempDir, treeContents } from '../testing.ts';
import { runFullBackup } from './backup.ts';
import { disasterRecovery } from './disaster-recovery.ts';

// The pipeline called directly with a fake ServiceController: what is stopped, restored,
// checked and started, in which order. The script itself is tested in scripts/.

const policy = samplePolicy();
let pristine: string;
let original: Record<string, string>;
beforeAll(async () => {
  const root = await copyFixture();
  original = await digest(root);
  pristine = await tempDir('ark-bk-');
  await runFullBackup({
    root,
    backupDir: pristine,
    date: '20260110',
    policy,
    sink: () => {},
    gitCommit: async () => null,
    host: 'test',
  });
});

async function digest(dir: string): Promise<Record<string, string>> {
  return Object.fromEntries([...(await treeContents(dir))].map(([path, content]) => [path, sha256Buffer(content)]));
}

/** The fixture with its state folders lost and zeroia's config corrupted, beside a copy of its backup. */
async function disaster() {
  const root = await copyFixture();
  for (const dir of [
    'modules/zeroia/state',
    'modules/reflexia/state',
    'modules/cognitive_reactor/state',
    'state',
    'global_state',
  ])
    await rm(join(root, dir), { recursive: true });
  await writeFile(join(root, 'config/zeroia_config.toml'), 'broken = = 1\n');
  const backupDir = await tempDir('ark-bk-');
  await cp(pristine, backupDir, { recursive: true });
  return { root, backupDir };
}

function fakeDocker(timeline: string[], options: { unhealthy?: string; api?: number } = {}): ServiceController {
  return {
    kind: 'docker',
    stop: async (t) => (timeline.push(`stop ${t.name}`), true),
    start: async (t) => void timeline.push(`start ${t.name}`),
    async waitHealthy(t) {
      timeline.push(`healthy? ${t.name}`);
      if (t.name === options.unhealthy)
        throw new ServiceError(
          'SERVICE_UNHEALTHY',
          `${t.container} did not become healthy within 60 s (last: health unhealthy)`,
        );
      return { healthy: true, via: 'http', detail: '200' };
    },
    logsTail: async (t) => (timeline.push(`logs ${t.name}`), `${t.name} log\n`),
    probe: async (t, path) => (
      timeline.push(`GET ${t.name}${path}`), { url: `http://127.0.0.1:8000${path}`, status: options.api ?? 200 }
    ),
  };
}

const timed = (timeline: string[]) => {
  const sink = recordingSink();
  return Object.assign(
    (e: ArkEvent) => {
      sink(e);
      if (e.kind === 'state-preserved' || e.kind === 'prestart-check' || e.kind === 'checksum-verified')
        timeline.push(e.kind);
    },
    { events: sink.events },
  );
};

describe('disasterRecovery', () => {
  it('restores states, configs and infra byte for byte; stops in reverse, checks, starts group by group, then checks the API', async () => {
    const { root, backupDir } = await disaster();
    const timeline: string[] = [];
    const sink = timed(timeline);
    const report = await disasterRecovery({ root, backupDir, policy, services: fakeDocker(timeline), sink });
    expect(await digest(root)).toEqual(original);
    expect(timeline.filter((t) => t !== 'prestart-check')).toEqual([
      'checksum-verified',
      'checksum-verified',
      // The compose file's depends_on order, stopped in reverse: every writer, sandozia and cognitive-reactor too.
      'stop cognitive-reactor',
      'stop sandozia',
      'stop assistantia',
      'stop zeroia',
      'stop arkalia-api',
      'stop reflexia',
      'state-preserved',
      'start arkalia-api',
      'start reflexia',
      'healthy? arkalia-api',
      'healthy? reflexia',
      'start assistantia',
      'start zeroia',
      'healthy? assistantia',
      'healthy? zeroia',
      'start sandozia',
      'healthy? sandozia',
      'start cognitive-reactor',
      'healthy? cognitive-reactor',
      'GET arkalia-api/status',
    ]);
    expect(report.knownInvalid.map((k) => k.path).sort()).toEqual([
      'state/global_context.toml',
      'state/reflexia_state.toml',
    ]);
    expect(report.checks.find((c) => c.check === 'toml-known-invalid')).toMatchObject({ severity: 'warning' });
    expect(report.services.api).toEqual({
      service: 'arkalia-api',
      url: 'http://127.0.0.1:8000/status',
      status: 200,
      ok: true,
      checked: true,
    });
    expect(await readFile(join(report.preservedAt!, 'config/zeroia_config.toml'), 'utf8')).toBe('broken = = 1\n');
    expect(report.changes.filter((c) => c.action === 'replace').map((c) => c.path)).toEqual([
      'config/zeroia_config.toml',
    ]);
  });

  it('stops nothing and changes nothing when no backup passes', async () => {
    const { root, backupDir } = await disaster();
    await rm(join(backupDir, 'daily/arkalia_20260110/checksums_20260110.sha256'));
    const before = await digest(root);
    const timeline: string[] = [];
    await expect(
      disasterRecovery({ root, backupDir, policy, services: fakeDocker(timeline), sink: recordingSink() }),
    ).rejects.toMatchObject({ code: 'CHECKSUM_FILE_MISSING', exitCode: 3 });
    expect(timeline).toEqual([]);
    expect(await digest(root)).toEqual(before);
  });

  it('keeps every service stopped when a pre-start check fails (a live config the backup does not hold is invalid)', async () => {
    const { root, backupDir } = await disaster();
    await writeFile(join(root, 'config/local_override.toml'), '<<<<<<< HEAD\n');
    const timeline: string[] = [];
    const error = await disasterRecovery({
      root,
      backupDir,
      policy,
      services: fakeDocker(timeline),
      sink: recordingSink(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PRESTART_CHECKS_FAILED', exitCode: 1, details: { stateRestored: true } });
    expect((error as Error).message).toMatch(/toml-valid: not valid TOML: config\/local_override\.toml/);
    expect(timeline.filter((t) => t.startsWith('start'))).toEqual([]);
    expect(await readFile(join(root, 'state/zeroia_state.toml'))).toBeTruthy(); // restored all the same
  });

  it('a group that does not become healthy stops the start sequence; an API that does not answer 200 fails the recovery (files kept)', async () => {
    const first = await disaster();
    const timeline: string[] = [];
    const error = await disasterRecovery({
      ...first,
      policy,
      services: fakeDocker(timeline, { unhealthy: 'zeroia' }),
      sink: recordingSink(),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'RESTORED_SERVICE_UNHEALTHY',
      details: { stateRestored: true, serviceError: 'SERVICE_UNHEALTHY' },
    });
    expect(timeline).toContain('start assistantia'); // zeroia's sibling in its group
    expect(timeline).not.toContain('start sandozia'); // it depends on zeroia
    expect(timeline).toContain('logs zeroia');
    expect(await digest(first.root)).toEqual(original);

    const second = await disaster();
    const quickApi = samplePolicy({ api: { service: 'arkalia-api', timeout: 'PT0.2S' } });
    const api = await disasterRecovery({
      ...second,
      policy: quickApi,
      services: fakeDocker([], { api: 503 }),
      sink: recordingSink(),
    }).catch((e: unknown) => e);
    expect(api).toMatchObject({ code: 'RESTORED_API_UNAVAILABLE', exitCode: 1 });
    expect((api as Error).message).toMatch(/the API check failed: GET http:\/\/127\.0\.0\.1:8000\/status answered 503/);
  });

  it('test mode: restores into a sandbox, leaves the live tree and services alone, and reports the diff', async () => {
    const { root, backupDir } = await disaster();
    const before = await digest(root);
    const timeline: string[] = [];
    const sandbox = join(await tempDir('ark-sandbox-'), 'restore');
    const report = await disasterRecovery({
      root,
      backupDir,
      policy,
      services: fakeDocker(timeline),
      sink: recordingSink(),
      sandbox: { dir: sandbox, keep: true },
    });
    expect(timeline).toEqual([]);
    expect(await digest(root)).toEqual(before);
    expect(report).toMatchObject({ mode: 'test', sandbox: { dir: sandbox, kept: true } });
    expect(report.diff!.changed).toEqual([
      {
        path: 'config/zeroia_config.toml',
        liveSha256: sha256Buffer('broken = = 1\n'),
        restoredSha256: original['config/zeroia_config.toml'],
      },
    ]);
    expect(report.diff!.added.map((a) => a.path)).toContain('state/zeroia_state.toml');
    expect(report.diff!.removed).toEqual([]);
    expect(await digest(sandbox)).toEqual(
      Object.fromEntries(
        Object.entries(original).filter(([p]) => !p.startsWith('logs/') && !/^modules\/[^/]+\/(config|logs)\//.test(p)),
      ),
    );
    await expect(
      disasterRecovery({
        root,
        backupDir,
        policy,
        services: noneController,
        sink: recordingSink(),
        sandbox: { dir: join(root, 'x'), keep: true },
      }),
    ).rejects.toMatchObject({ code: 'USAGE' });
    await expect(
      disasterRecovery({
        root,
        backupDir,
        policy,
        services: noneController,
        sink: recordingSink(),
        sandbox: { dir: sandbox, keep: true },
      }),
    ).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('is not empty') });
  });

  it('takes an already downloaded and decrypted archive with its expected sha256 (how disk-recovery plugs in)', async () => {
    const { root, backupDir } = await disaster();
    const archive = join(backupDir, 'daily/arkalia_20260110/arkalia_states_20260110.tar.gz');
    const { sha256 } = await sha256File(archive);
    const wrong = archiveCandidate({
      archive: 'states',
      file: archive,
      sha256: sha256Buffer('not it'),
      label: 'offsite copy',
    });
    await expect(
      disasterRecovery({
        root,
        backupDir,
        policy,
        services: noneController,
        sink: recordingSink(),
        candidates: [wrong],
      }),
    ).rejects.toMatchObject({ code: 'CHECKSUM_MISMATCH' });
    const good = archiveCandidate({
      archive: 'states',
      file: archive,
      sha256,
      label: 'arkalia_states_20260110.tar.gz (offsite)',
      recoveryPoint: { display: '2026-01-10T03:00:00+00:00', at: new Date('2026-01-10T03:00:00Z') },
      declaredInvalid: ['state/global_context.toml', 'state/reflexia_state.toml'], // from the offsite manifest
    });
    const report = await disasterRecovery({
      root,
      backupDir,
      policy,
      services: noneController,
      sink: recordingSink(),
      candidates: [wrong, good],
    });
    expect(report.rejected).toMatchObject([{ backup: 'offsite copy', code: 'CHECKSUM_MISMATCH' }]);
    expect(report.skippedArchives).toEqual(['infra']);
    expect(report.backup).toEqual({
      dir: null,
      date: null,
      label: 'arkalia_states_20260110.tar.gz (offsite)',
      recoveryPoint: '2026-01-10T03:00:00+00:00',
    });
    expect(await digest(root)).toEqual(original); // the infra it lacks was not damaged
    expect(await readdir(dirname(root))).toEqual(['arkalia-luna-pro']);
  });
});
