// The disk recovery pipeline in-process, where a script cannot show it: the services around
// placing the root (stopped before, started after, in the policy's order, health-gated), a
// flaky and bit-flipping offsite (restic-style faults wrapped around a real local folder), and
// a root that is a fresh mount point (restored in place). The script's own behaviour (exit
// codes, fallback, what is left behind) is tested in scripts/disk-recovery.test.ts.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, readRecipientKey, writeKeyPair } from '../crypto/index.ts';
import { encryptBackup } from './encrypted-backup.ts';
import { ServiceError } from '../errors.ts';
import { recordingSink, silentSink } from '../events.ts';
import { localRemote, openRemote, withFaults } from '../offsite/index.ts';
import { startS3rver, type TestS3 } from '../offsite/testing/s3rver.ts';
import { statesOf } from '../restore-source/testing.ts';
import { noneController, type ServiceController } from '../services/index.ts';
import { samplePolicy } from '../policy/testing.ts';
import { copyFixture, tempDir } from '../testing.ts';
import { runFullBackup } from './backup.ts';
import { diskRecovery, type DiskRecoveryOptions } from './disk-recovery.ts';
import { remoteSync } from './remote-sync.ts';

const DATE = '20261125';
const GPG = `arkalia_states_${DATE}.tar.gz.gpg`;
const policy = samplePolicy();
/** The sample compose file's services, in its depends_on order. */
const SIX = ['arkalia-api', 'reflexia', 'assistantia', 'zeroia', 'sandozia', 'cognitive-reactor'];
const noWait = { sleep: async () => {}, random: () => 0.5 };
let offsite: string;
let secretFile: string;
let keyring: string;
let fingerprint: string;
let expected: Record<string, string>;
let lostBackupDir: string;
/** The lost backup's manifest backup_date: when it ran, to the second. */
let backupDate: string;
let s3: TestS3 | undefined;

beforeAll(async () => {
  const root = await copyFixture();
  for (const path of ['state/global_context.toml', 'state/reflexia_state.toml'])
    await writeFile(join(root, path), 'ok = true\n');
  expected = await statesOf(root);
  const backupDir = (lostBackupDir = await tempDir('ark-dr-lost-'));
  const pair = await generateKeyPair({});
  const keys = await writeKeyPair(await tempDir('ark-dr-keys-'), 'backup', pair);
  secretFile = keys.secretFile;
  fingerprint = pair.info.fingerprint;
  keyring = await tempDir('ark-dr-keyring-'); // the same key, as keys.mts keeps a keyring
  await copyFile(keys.secretFile, join(keyring, `${fingerprint}.sec.asc`));
  await copyFile(keys.publicFile, join(keyring, `${fingerprint}.pub.asc`));
  await writeFile(join(keyring, 'current'), `${fingerprint}\n`);
  await runFullBackup({
    root,
    backupDir,
    date: DATE,
    policy,
    sink: silentSink,
    gitCommit: async () => null,
    now: () => new Date('2026-11-25T02:59:58Z'),
  });
  backupDate = JSON.parse(
    await readFile(join(backupDir, 'daily', `arkalia_${DATE}`, `backup_manifest_${DATE}.json`), 'utf8'),
  ).backup_date;
  await encryptBackup({ backupDir, policy, recipients: [await readRecipientKey(keys.publicFile)], sink: silentSink });
  offsite = join(await tempDir('ark-dr-offsite-'), 'offsite');
  await mkdir(offsite);
  await remoteSync({ backupDir, remote: localRemote(offsite), sink: silentSink });
}, 60_000);

afterAll(async () => {
  await s3?.stop();
});

/** Docker as the pipeline sees it: every container present; records what it was asked and what the root held then. */
function fakeDocker(root: string, unhealthy?: string, bindSources: (t: { name: string }) => string[] = () => []) {
  const calls: string[] = [];
  const stateThere = () => existsSync(join(root, 'modules/zeroia/state/zeroia_state.toml'));
  const controller: ServiceController = {
    kind: 'docker',
    stop: async (t) => (calls.push(`stop ${t.container} (state there: ${stateThere()})`), true),
    start: async (t) =>
      void calls.push(
        `start ${t.container} (state there: ${stateThere()}${bindSources(t)
          .map((s) => `, ${s.startsWith(root) ? s.slice(root.length + 1) : s} there: ${existsSync(s)}`)
          .join('')})`,
      ),
    bindSources: async (t) => bindSources(t),
    waitHealthy: async (t) => {
      if (t.name === unhealthy)
        throw new ServiceError('HEALTH_TIMEOUT', `${t.container} did not become healthy within 60 s`);
      return { healthy: true, via: 'http', detail: 'HTTP 200' };
    },
    logsTail: async () => '',
    probe: async (t, path) => ({ url: `http://${t.container}:${t.port}${path}`, status: 200 }),
  };
  return { controller, calls };
}

async function recover(root: string, options: Partial<DiskRecoveryOptions> = {}) {
  const sink = recordingSink();
  const backupDir = join(root, '..', 'backup');
  const report = await diskRecovery({
    remote: localRemote(offsite),
    offsiteDir: offsite,
    root,
    backupDir,
    policy,
    keys: { keyFiles: [secretFile], passphrases: [] },
    services: fakeDocker(root).controller,
    sink,
    retry: noWait,
    ...options,
  });
  return { report, events: sink.events };
}

describe('diskRecovery', { timeout: 60_000 }, () => {
  it('stops the services before the root appears and starts them after, in the policy order, each group healthy first; retries a flaky offsite and downloads a garbled copy again', async () => {
    const root = join(await tempDir('ark-dr-'), 'arkalia');
    const docker = fakeDocker(root);
    let flips = 0;
    // Every second get fails (transient, retried with backoff); the first download of the archive arrives with a bit flipped.
    const remote = withFaults(localRemote(offsite), {
      failEvery: { n: 2, operations: ['get'] },
      flipBitOnRead: (name) => name === GPG && flips++ === 0,
    });
    const { report, events } = await recover(root, { remote, services: docker.controller });

    expect(await statesOf(root)).toEqual(expected);
    expect(report.fetched).toEqual([expect.objectContaining({ name: GPG, attempts: 2 })]);
    expect(events.filter((e) => e.kind === 'offsite-retry').length).toBeGreaterThanOrEqual(2);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'warning', code: 'OFFSITE_FETCH_MISMATCH' }));
    expect(docker.calls).toEqual([
      'stop cognitive-reactor (state there: false)',
      'stop sandozia (state there: false)',
      'stop assistantia (state there: false)',
      'stop zeroia (state there: false)',
      'stop arkalia-api (state there: false)',
      'stop reflexia (state there: false)',
      'start arkalia-api (state there: true)',
      'start reflexia (state there: true)',
      'start assistantia (state there: true)',
      'start zeroia (state there: true)',
      'start sandozia (state there: true)',
      'start cognitive-reactor (state there: true)',
    ]);
    expect(report.services?.started.map((s) => s.name)).toEqual(SIX);
    expect(report.services?.api).toMatchObject({ ok: true, url: 'http://arkalia-api:8000/status' });
    expect(report.placement).toEqual({ mode: 'rename', reason: null });
  });

  it('reports the exact recovery point (when the backup ran, recorded offsite by encrypted-backup), not just its day', async () => {
    expect(Date.parse(backupDate)).toBe(Date.parse('2026-11-25T02:59:58Z'));
    const { report } = await recover(join(await tempDir('ark-dr-'), 'arkalia'));
    expect(report.backup?.recoveryPoint).toBe(backupDate);
    const planned = await recover(join(await tempDir('ark-dr-'), 'arkalia'), { dryRun: true });
    expect(planned.report.backup?.recoveryPoint).toBe(backupDate);
  });

  it('creates the folders the containers bind-mount from the root that the offsite does not hold (logs/), before starting them; never outside the root', async () => {
    const root = join(await tempDir('ark-dr-'), 'arkalia');
    const elsewhere = join(await tempDir('ark-dr-elsewhere-'), 'models');
    const docker = fakeDocker(root, undefined, (t) => [
      join(root, 'logs'),
      join(root, 'state'),
      ...(t.name === 'assistantia' ? [join(root, 'modules/assistantia/logs'), elsewhere] : []),
    ]);
    const { report, events } = await recover(root, { services: docker.controller });
    expect(report.services?.started.map((s) => s.name)).toEqual(SIX);
    const shared = 'logs there: true, state there: true';
    expect(docker.calls.filter((c) => c.startsWith('start'))).toEqual([
      `start arkalia-api (state there: true, ${shared})`,
      `start reflexia (state there: true, ${shared})`,
      `start assistantia (state there: true, ${shared}, modules/assistantia/logs there: true, ${elsewhere} there: false)`,
      `start zeroia (state there: true, ${shared})`,
      `start sandozia (state there: true, ${shared})`,
      `start cognitive-reactor (state there: true, ${shared})`,
    ]);
    expect(await readdir(join(root, 'logs'))).toEqual([]);
    expect(
      events
        .filter((e) => e.kind === 'info' && /bind-mounts it/.test(e.message))
        .map((e) => (e as { message: string }).message),
    ).toEqual([
      'created logs/ empty: arkalia-api bind-mounts it and the recovery did not restore it',
      'created modules/assistantia/logs/ empty: assistantia bind-mounts it and the recovery did not restore it',
    ]);
  });

  it('a service that does not become healthy: the later groups are not started, and the error says the root WAS restored (it stays)', async () => {
    const root = join(await tempDir('ark-dr-'), 'arkalia');
    const docker = fakeDocker(root, 'zeroia');
    const failure = await recover(root, { services: docker.controller }).catch((e: unknown) => e);
    expect(failure).toMatchObject({
      code: 'RESTORED_SERVICE_UNHEALTHY',
      exitCode: 1,
      details: { stateRestored: true },
    });
    expect((failure as Error).message).toMatch(
      /WAS restored from offsite set 20261125.*zeroia did not become healthy within 60 s.*Not started \(later in the start order\): sandozia, cognitive-reactor/s,
    );
    expect(docker.calls.filter((c) => c.startsWith('start'))).toEqual([
      'start arkalia-api (state there: true)',
      'start reflexia (state there: true)',
      'start assistantia (state there: true)', // zeroia's sibling in its group
      'start zeroia (state there: true)',
    ]);
    expect(await statesOf(root)).toEqual(expected);
  });

  it('a fresh filesystem mounted at the root (lost+found): restored in place under the journal, nothing of the restore left there', async () => {
    const root = join(await tempDir('ark-dr-'), 'arkalia');
    await mkdir(join(root, 'lost+found'), { recursive: true });
    const { report } = await recover(root, { date: DATE, services: fakeDocker(root).controller });
    expect(report.placement.mode).toBe('in-place');
    expect(await statesOf(root)).toEqual(expected);
    expect((await readdir(root)).filter((n) => n.startsWith('.ark') || n === 'lost+found')).toEqual(['lost+found']);
  });

  it('from an S3 offsite (s3rver): the same recovery, byte for byte', async () => {
    s3 = await startS3rver({ buckets: ['offsite'], lifetimeMs: 60_000 });
    const remote = await openRemote({ kind: 's3', bucket: 'offsite', prefix: 'arkalia' }, s3.env);
    await remoteSync({ backupDir: lostBackupDir, remote, sink: silentSink });
    const root = join(await tempDir('ark-dr-'), 'arkalia');
    const { report } = await recover(root, { remote, offsiteDir: undefined, services: noneController });
    expect(report.offsite).toBe('s3://offsite/arkalia/');
    expect(report.fetched.map((f) => f.name)).toEqual([GPG]);
    expect(report.services).toBeNull();
    expect(await statesOf(root)).toEqual(expected);
  });

  it('--dry-run with a keyring: finds the key the set is encrypted to, plans, writes nothing', async () => {
    const parent = await tempDir('ark-dr-');
    const root = join(parent, 'arkalia');
    const { report, events } = await recover(root, { keys: { keyFiles: [], keyring, passphrases: [] }, dryRun: true });
    expect(report.keys.map((k) => k.fingerprint)).toEqual([fingerprint]);
    expect(report.plan).toMatchObject({
      date: DATE,
      fetch: [{ name: GPG }],
      datasets: ['states', 'configs', 'database'],
    });
    expect(events.filter((e) => e.kind === 'offsite-fetched')).toEqual([]);
    expect(await readdir(parent)).toEqual([]);
  });

  it('run again: the rebuilt backup is verified and reused (nothing downloaded); one that differs from the offsite is left alone and named', async () => {
    const parent = await tempDir('ark-dr-');
    await recover(join(parent, 'first'));
    const again = await recover(join(parent, 'second'));
    expect(again.report.backup).toMatchObject({ date: DATE, reused: true });
    expect(again.report.fetched).toEqual([]);
    expect(await statesOf(join(parent, 'second'))).toEqual(expected);

    const archive = join(parent, 'backup', 'daily', `arkalia_${DATE}`, `arkalia_states_${DATE}.tar.gz`);
    await writeFile(archive, 'not the archive');
    const failure = await recover(join(parent, 'third')).catch((e: unknown) => e);
    expect(failure).toMatchObject({
      code: 'LOCAL_BACKUP_DIFFERS',
      exitCode: 1,
      message: expect.stringMatching(
        /already exists and is not the offsite copy of 20261125 \(it does not verify.*left alone/,
      ),
    });
    expect(existsSync(join(parent, 'third'))).toBe(false);
    expect((await readdir(join(parent, 'backup', 'daily'))).sort()).toEqual([`arkalia_${DATE}`]);
  });
  it('never writes through a link: a --root that is a link is refused (exit 2); a link planted in the hidden tree being built refuses the recovery (exit 3), nothing outside written, no root left', async () => {
    const base = await tempDir('ark-dr-links-');
    const outside = join(base, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'keep.txt'), "not the recovery's\n");
    const linked = join(base, 'arkalia-link');
    await symlink(outside, linked);
    await expect(recover(linked)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining(`--root ${linked} is a link (to ${outside})`),
    });

    // The tree is built hidden beside the root; something plants modules/ -> outside in it while the archives are staged.
    const root = join(base, 'arkalia');
    const planted: string[] = [];
    const pauseAt = async (point: string) => {
      if (point !== 'staged') return;
      const build = (await readdir(base)).find((n) => n.startsWith('.ark-recovering-arkalia-'))!;
      await symlink(outside, join(base, build, 'modules'));
      planted.push(build);
    };
    const refused = await recover(root, { pauseAt }).then(
      () => null,
      (e: Error & { exitCode?: number; code?: string }) => e,
    );
    expect(planted).toHaveLength(1);
    expect(refused).toMatchObject({
      code: 'LINK_IN_TREE',
      exitCode: 3,
      message: expect.stringContaining(`modules -> ${outside}`),
    });
    expect(await readdir(outside)).toEqual(['keep.txt']);
    expect(existsSync(root)).toBe(false);
    expect((await readdir(base)).filter((n) => n.startsWith('.ark-'))).toEqual([]);
  });
});
