import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { ServiceError } from '../errors.ts';
import { recordingSink, type ArkEvent } from '../events.ts';
import { resolvePolicy } from '../policy/index.ts';
import { noneController, type ServiceController, type ServiceTarget } from '../services/index.ts';
import { copyFixture, tempDir, treeContents } from '../testing.ts';
import { runFullBackup } from './backup.ts';
import { emergencyRestore } from './emergency-restore.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';

// The pipeline called directly, with a fake ServiceController that records what it was asked
// to do, interleaved with the events the pipeline emits: the order is the contract.

const STATE = 'modules/zeroia/state/zeroia_state.toml';
const CORRUPT = '<<<<<<< HEAD\nlast_decision = "a"\n=======\nlast_decision = "b"\n>>>>>>> dev-migration\n';
const policy = resolvePolicy({ services: { zeroia: { container: 'ark-test-zeroia' } } }, 'test');
let fixtureState: Buffer;

beforeAll(async () => {
  fixtureState = await readFile(join(SAMPLE_ROOT, STATE));
});

/** A copy of the fixture, backed up (our format), then zeroia's state corrupted. */
async function corruptedRoot(options: { corruptBeforeBackup?: boolean } = {}) {
  const root = await copyFixture();
  const backupDir = await tempDir('ark-bk-');
  if (options.corruptBeforeBackup) await writeFile(join(root, STATE), CORRUPT);
  await runFullBackup({
    root,
    backupDir,
    date: '20260110',
    policy,
    sink: () => {},
    gitCommit: async () => null,
    host: 'test',
  });
  await writeFile(join(root, STATE), CORRUPT);
  return { root, backupDir };
}

function fakeServices(
  timeline: string[],
  behaviour: { healthy?: boolean; present?: boolean; atStop?: () => Promise<void>; atStart?: () => Promise<void> } = {},
) {
  const targets: ServiceTarget[] = [];
  const controller: ServiceController = {
    kind: 'docker',
    async stop(target) {
      targets.push(target);
      timeline.push(`stop ${target.container}`);
      await behaviour.atStop?.();
      return behaviour.present ?? true;
    },
    async start(target) {
      timeline.push(`start ${target.container}`);
      await behaviour.atStart?.();
    },
    async waitHealthy(target) {
      timeline.push(`waitHealthy ${target.container}`);
      if (behaviour.healthy === false)
        throw new ServiceError(
          'SERVICE_UNHEALTHY',
          `${target.container} did not become healthy within 60 s (last: health unhealthy)`,
        );
      return { healthy: true, via: 'healthcheck', detail: 'health healthy' };
    },
    async logsTail(target, lines) {
      timeline.push(`logs ${target.container} ${lines}`);
      return 'zeroia: state loaded\n';
    },
  };
  return { controller, targets };
}

function timedSink(timeline: string[]) {
  const sink = recordingSink();
  const wrapped = (event: ArkEvent) => {
    sink(event);
    if (event.kind !== 'service' && event.kind !== 'service-logs') timeline.push(`event ${event.kind}`);
  };
  return Object.assign(wrapped, { events: sink.events });
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** path → sha256 of every file: deep-comparing Buffers of a 2 MB tree is far too slow in expect. */
async function digest(dir: string): Promise<Record<string, string>> {
  return Object.fromEntries([...(await treeContents(dir))].map(([path, content]) => [path, sha256Buffer(content)]));
}

describe('emergencyRestore with a service', () => {
  it('verifies and stages first, then stop → preserve → swap → start → healthy → logs', async () => {
    const { root, backupDir } = await corruptedRoot();
    const timeline: string[] = [];
    const seen: Record<string, unknown> = {};
    const { controller, targets } = fakeServices(timeline, {
      atStop: async () => {
        seen.atStop = {
          live: await readFile(join(root, STATE), 'utf8'),
          preserved: await exists(join(backupDir, 'preserved')),
        };
      },
      atStart: async () => {
        seen.atStart = (await readFile(join(root, STATE))).equals(fixtureState);
      },
    });
    const report = await emergencyRestore({
      root,
      backupDir,
      module: 'zeroia',
      policy,
      services: controller,
      sink: timedSink(timeline),
    });
    // Verifying and extracting (their progress) are done while the service still runs.
    expect(timeline.filter((t) => t === 'event progress').length).toBeGreaterThanOrEqual(2);
    expect(timeline.lastIndexOf('event progress')).toBeLessThan(timeline.indexOf('stop ark-test-zeroia'));
    expect(timeline.filter((t) => t !== 'event progress')).toEqual([
      'event backup-selected',
      'event checksum-verified',
      'stop ark-test-zeroia',
      'event state-preserved',
      'event file-restored',
      'start ark-test-zeroia',
      'waitHealthy ark-test-zeroia',
      'logs ark-test-zeroia 10',
    ]);
    expect(targets[0]).toMatchObject({
      name: 'zeroia',
      container: 'ark-test-zeroia',
      port: null, // no HTTP health path in the policy: Docker's health status decides
      healthPath: null,
      healthTimeoutMs: 60_000,
    });
    expect(seen).toEqual({ atStop: { live: CORRUPT, preserved: false }, atStart: true });
    expect(report.service).toEqual({
      name: 'zeroia',
      container: 'ark-test-zeroia',
      stopped: true,
      health: { healthy: true, via: 'healthcheck', detail: 'health healthy' },
      logs: 'zeroia: state loaded\n',
    });
  });

  it('never stops the service when the backup does not verify or does not validate', async () => {
    for (const breakIt of ['checksum', 'invalid-state'] as const) {
      const { root, backupDir } = await corruptedRoot({ corruptBeforeBackup: breakIt === 'invalid-state' });
      if (breakIt === 'checksum') {
        const archive = join(backupDir, 'daily/arkalia_20260110/arkalia_states_20260110.tar.gz');
        const bytes = await readFile(archive);
        bytes[100]! ^= 0xff;
        await writeFile(archive, bytes);
      }
      const before = await digest(root);
      const timeline: string[] = [];
      const error = await emergencyRestore({
        root,
        backupDir,
        module: 'zeroia',
        policy,
        services: fakeServices(timeline).controller,
        sink: timedSink(timeline),
      }).catch((e: unknown) => e);
      expect(error, breakIt).toMatchObject({
        exitCode: 3,
        code: breakIt === 'checksum' ? 'CHECKSUM_MISMATCH' : 'BACKUP_STATE_INVALID',
      });
      expect(
        timeline.filter((t) => !t.startsWith('event')),
        breakIt,
      ).toEqual([]);
      expect(await digest(root)).toEqual(before);
      expect(await exists(join(backupDir, 'preserved'))).toBe(false);
      expect((await readdir(root)).filter((n) => n.startsWith('.ark-restore'))).toEqual([]);
    }
  });

  it('reports a health timeout after a good swap as a failure that says the state WAS restored, and keeps the restored files', async () => {
    const { root, backupDir } = await corruptedRoot();
    const timeline: string[] = [];
    const sink = timedSink(timeline);
    const error = await emergencyRestore({
      root,
      backupDir,
      module: 'zeroia',
      policy,
      services: fakeServices(timeline, { healthy: false }).controller,
      sink,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({
      code: 'RESTORED_SERVICE_UNHEALTHY',
      exitCode: 1,
      details: { stateRestored: true, serviceError: 'SERVICE_UNHEALTHY' },
    });
    expect((error as Error).message).toMatch(
      /state of zeroia WAS restored from .*arkalia_20260110 \(previous state preserved in .*preserved\/zeroia_state_.*\), but the service is unhealthy: ark-test-zeroia did not become healthy/,
    );
    expect((await readFile(join(root, STATE))).equals(fixtureState)).toBe(true); // not rolled back to the corrupted state
    expect(timeline.slice(-3)).toEqual([
      'start ark-test-zeroia',
      'waitHealthy ark-test-zeroia',
      'logs ark-test-zeroia 10',
    ]);
    expect(sink.events).toContainEqual({ kind: 'service-logs', service: 'zeroia', lines: 'zeroia: state loaded\n' });
    const preservedAt = (error as ServiceError).details.preservedAt as string;
    expect(await readFile(join(preservedAt, 'zeroia_state.toml'), 'utf8')).toBe(CORRUPT);
  });

  it('rolls back a failed swap and restarts the service as it was', async () => {
    const { root, backupDir } = await corruptedRoot();
    // zeroia_decision_log.toml is replaced first; then zeroia_state.toml cannot be created
    // because a non-empty folder holds its name.
    await writeFile(join(root, 'modules/zeroia/state/zeroia_decision_log.toml'), 'garbage {[}');
    await rm(join(root, STATE));
    await mkdir(join(root, STATE));
    await writeFile(join(root, STATE, 'inner.toml'), 'x = 1\n');
    const before = await digest(root);
    const timeline: string[] = [];
    const error = await emergencyRestore({
      root,
      backupDir,
      module: 'zeroia',
      policy,
      services: fakeServices(timeline).controller,
      sink: timedSink(timeline),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RESTORE_SWAP_FAILED', exitCode: 1 });
    expect(await digest(root)).toEqual(before);
    expect(timeline.filter((t) => !t.startsWith('event'))).toEqual(['stop ark-test-zeroia', 'start ark-test-zeroia']);
    expect((await readdir(root)).filter((n) => n.startsWith('.ark-restore'))).toEqual([]);
  });

  it('also stops every running container that bind-mounts the module state (a writer the policy does not name), names it, and starts it after the service', async () => {
    const { root, backupDir } = await corruptedRoot();
    const timeline: string[] = [];
    const sink = timedSink(timeline);
    const { controller } = fakeServices(timeline);
    controller.runningContainers = async () => [
      { name: 'zeroia-sidecar', bindSources: [join(root, 'modules/zeroia/state')] },
      { name: 'whole-root-backup-agent', bindSources: [root] },
      { name: 'sandozia', bindSources: [join(root, 'state'), join(root, 'logs')] }, // not under modules/zeroia/state/
      { name: 'ark-test-zeroia', bindSources: [join(root, 'modules/zeroia/state')] }, // already stopped by name
    ];
    await emergencyRestore({ root, backupDir, module: 'zeroia', policy, services: controller, sink });
    expect(timeline.filter((t) => !t.startsWith('event') && !t.startsWith('logs'))).toEqual([
      'stop ark-test-zeroia',
      'stop zeroia-sidecar',
      'stop whole-root-backup-agent',
      'start ark-test-zeroia',
      'waitHealthy ark-test-zeroia',
      'start zeroia-sidecar',
      'start whole-root-backup-agent',
      'waitHealthy zeroia-sidecar',
      'waitHealthy whole-root-backup-agent',
    ]);
    expect(sink.events).toContainEqual(
      expect.objectContaining({
        kind: 'service',
        action: 'stop',
        container: 'zeroia-sidecar',
        message: `stopped zeroia-sidecar: the policy does not name it, but it bind-mounts ${join(root, 'modules/zeroia/state')}, which this restore replaces`,
      }),
    );
    expect((await readFile(join(root, STATE))).equals(fixtureState)).toBe(true);
  });

  it('stops a writer of the module state even when no service of the policy owns the module, and restarts it after a failed swap', async () => {
    const { root, backupDir } = await corruptedRoot();
    await rm(join(root, STATE));
    await mkdir(join(root, STATE)); // the swap cannot put the state file where a folder is
    await writeFile(join(root, STATE, 'inner.toml'), 'x = 1\n');
    const timeline: string[] = [];
    const { controller } = fakeServices(timeline);
    controller.runningContainers = async () => [{ name: 'writer', bindSources: [join(root, 'modules/zeroia/state')] }];
    const unowned = resolvePolicy({}, 'test'); // no services at all
    const error = await emergencyRestore({
      root,
      backupDir,
      module: 'zeroia',
      policy: unowned,
      services: controller,
      sink: timedSink(timeline),
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RESTORE_SWAP_FAILED' });
    expect(timeline.filter((t) => !t.startsWith('event'))).toEqual(['stop writer', 'start writer']);
  });

  it('goes on without a restart when the container does not exist', async () => {
    const { root, backupDir } = await corruptedRoot();
    const timeline: string[] = [];
    const sink = timedSink(timeline);
    const report = await emergencyRestore({
      root,
      backupDir,
      module: 'zeroia',
      policy,
      services: fakeServices(timeline, { present: false }).controller,
      sink,
    });
    expect(timeline.filter((t) => !t.startsWith('event'))).toEqual(['stop ark-test-zeroia']);
    expect(report.service).toBeNull();
    expect(sink.events).toContainEqual(
      expect.objectContaining({ kind: 'service', action: 'absent', container: 'ark-test-zeroia' }),
    );
    expect((await readFile(join(root, STATE))).equals(fixtureState)).toBe(true);
  });
});

describe('emergencyRestore files', () => {
  it('removes live files the backup does not have, after preserving them', async () => {
    const { root, backupDir } = await corruptedRoot();
    const liveDir = join(root, 'modules/zeroia/state');
    await writeFile(join(liveDir, 'zeroia_cache.toml'), 'stale = true\n');
    await mkdir(join(liveDir, 'tmp'));
    await writeFile(join(liveDir, 'tmp', 'scratch.json'), '{"x":1}');
    const report = await emergencyRestore({
      root,
      backupDir,
      module: 'zeroia',
      policy,
      services: noneController,
      sink: recordingSink(),
    });
    expect(report.changes.filter((c) => c.action === 'remove').map((c) => c.path)).toEqual([
      'modules/zeroia/state/tmp/scratch.json',
      'modules/zeroia/state/zeroia_cache.toml',
    ]);
    const live = await treeContents(liveDir);
    expect([...live.keys()].sort()).toEqual(['zeroia_decision_log.toml', 'zeroia_state.toml']);
    const preserved = await treeContents(report.preservedAt!);
    expect(preserved.get('zeroia_cache.toml')?.toString()).toBe('stale = true\n');
    expect(preserved.get('tmp/scratch.json')?.toString()).toBe('{"x":1}');
    expect(preserved.get('zeroia_state.toml')?.toString()).toBe(CORRUPT);
  });

  it('recreates a state folder that is gone entirely', async () => {
    const { root, backupDir } = await corruptedRoot();
    await rm(join(root, 'modules/zeroia'), { recursive: true });
    const report = await emergencyRestore({
      root,
      backupDir,
      module: 'zeroia',
      policy,
      services: noneController,
      sink: recordingSink(),
    });
    expect(report.changes.map((c) => c.action)).toEqual(['create', 'create']);
    expect((await readFile(join(root, STATE))).equals(fixtureState)).toBe(true);
  });

  it('refuses hostile module names and a root that is not a folder before touching anything (exit 2)', async () => {
    const backupDir = await tempDir('ark-bk-');
    for (const module of ['../etc', 'zeroia/../../x', 'ZeroIA', '', 'a'.repeat(65)]) {
      await expect(
        emergencyRestore({ root: '/', backupDir, module, policy, services: noneController, sink: recordingSink() }),
        module,
      ).rejects.toMatchObject({ code: 'USAGE', exitCode: 2 });
    }
    await expect(
      emergencyRestore({
        root: join(backupDir, 'typo'),
        backupDir,
        module: 'zeroia',
        policy,
        services: noneController,
        sink: recordingSink(),
      }),
    ).rejects.toMatchObject({ code: 'USAGE', exitCode: 2 });
    expect(await exists(join(backupDir, 'typo'))).toBe(false);
  });
});
