import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, readRecipientKey, writeKeyPair } from '../crypto/index.ts';
import { recordingSink, silentSink } from '../events.ts';
import { localRemote } from '../offsite/index.ts';
import { loadPolicy } from '../policy/index.ts';
import { samplePolicy } from '../policy/testing.ts';
import type { ServiceController } from '../services/index.ts';
import { copyFixture, tempDir } from '../testing.ts';
import { SAMPLE_ROOT } from '../../sample/index.ts';
import { runFullBackup } from './backup.ts';
import { diskRecovery } from './disk-recovery.ts';
import { encryptBackup } from './encrypted-backup.ts';
import { remoteSync } from './remote-sync.ts';
import { resolveServices } from './restore-services.ts';

// disk-recovery --clone on a new host: nothing but the Arkalia repository (a local bare one
// here), the offsite copy and the key. The repository is laid into the root first, the state
// restored over it, and with compose the six containers are created (none existed).

const DATE = '20261125';
let offsite: string;
let secretFile: string;
let repository: string;
let commit: string;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  }).trim();

beforeAll(async () => {
  const root = await copyFixture();
  const backupDir = await tempDir('ark-clone-bk-');
  const pair = await generateKeyPair({});
  const keys = await writeKeyPair(await tempDir('ark-clone-keys-'), 'backup', pair);
  secretFile = keys.secretFile;
  const policy = samplePolicy();
  await runFullBackup({ root, backupDir, date: DATE, policy, sink: silentSink, gitCommit: async () => null });
  await encryptBackup({ backupDir, policy, recipients: [await readRecipientKey(keys.publicFile)], sink: silentSink });
  offsite = join(await tempDir('ark-clone-offsite-'), 'offsite');
  await mkdir(offsite);
  await remoteSync({ backupDir, remote: localRemote(offsite), sink: silentSink });

  // The repository: code and infra, with a default state file the backup's state replaces.
  const work = join(await tempDir('ark-clone-repo-'), 'work');
  await mkdir(join(work, 'modules/zeroia/state'), { recursive: true });
  await cp(join(SAMPLE_ROOT, 'docker-compose.yml'), join(work, 'docker-compose.yml'));
  await writeFile(join(work, 'Dockerfile'), 'FROM scratch\n');
  await writeFile(join(work, 'run_arkalia_api.py'), 'print("api")\n');
  await writeFile(join(work, 'modules/zeroia/state/zeroia_state.toml'), 'fresh = true\n');
  await writeFile(join(work, 'modules/zeroia/state/default_only.toml'), 'shipped = true\n');
  git(work, 'init', '-q', '-b', 'main');
  git(work, 'add', '.');
  git(work, 'commit', '-q', '-m', 'arkalia');
  commit = git(work, 'rev-parse', 'HEAD');
  git(work, 'tag', 'v2.8.0');
  repository = join(await tempDir('ark-clone-bare-'), 'arkalia.git');
  git(work, 'clone', '-q', '--bare', work, repository);
}, 60_000);

/** Compose as the pipeline drives it on a new host: no container exists; start creates it. */
function composeFake() {
  const calls: string[] = [];
  const controller: ServiceController = {
    kind: 'compose',
    stop: async (t) => (calls.push(`stop ${t.container}`), false),
    start: async (t) => void calls.push(`up ${t.name}`),
    waitHealthy: async () => ({ healthy: true, via: 'healthcheck', detail: 'health healthy' }),
    logsTail: async () => '',
    probe: async (t, path) => ({ url: `http://127.0.0.1:8000${path}`, status: 200 }),
    runningContainers: async () => [],
  };
  return { controller, calls };
}

async function recover(root: string, repo: { url: string; ref?: string }) {
  const sink = recordingSink();
  const { controller, calls } = composeFake();
  const loaded = await loadPolicy({ root });
  const report = await diskRecovery({
    remote: localRemote(offsite),
    offsiteDir: offsite,
    root,
    backupDir: join(root, '..', 'backup'),
    policy: loaded.policy,
    keys: { keyFiles: [secretFile], passphrases: [] },
    services: controller,
    resolveServices: async (readFrom) => ({
      ...(await resolveServices({ loaded, root, kind: 'none', ...(readFrom ? { readFrom } : {}) })),
      controller,
      kind: 'compose',
    }),
    repository: repo,
    sink,
  });
  return { report, sink, calls };
}

describe('diskRecovery --clone (a new host)', { timeout: 60_000 }, () => {
  it('lays the repository into the new root, restores the state over it, and creates every compose service in order', async () => {
    const root = join(await tempDir('ark-clone-new-'), 'srv', 'arkalia');
    const { report, sink, calls } = await recover(root, { url: repository, ref: 'v2.8.0' });
    expect(report.repository).toEqual({ url: repository, ref: 'v2.8.0', commit });
    // The repository's files, its .git included ...
    expect(await readFile(join(root, 'run_arkalia_api.py'), 'utf8')).toBe('print("api")\n');
    expect(git(root, 'rev-parse', 'HEAD')).toBe(commit);
    // ... and the backup's state over it: its state folders exactly as backed up.
    expect(await readFile(join(root, 'modules/zeroia/state/zeroia_state.toml'))).toEqual(
      await readFile(join(SAMPLE_ROOT, 'modules/zeroia/state/zeroia_state.toml')),
    );
    expect(existsSync(join(root, 'modules/zeroia/state/default_only.toml'))).toBe(false);
    // No container existed; compose creates the six from the repository's compose file.
    expect(calls.filter((c) => c.startsWith('up'))).toEqual([
      'up arkalia-api',
      'up reflexia',
      'up assistantia',
      'up zeroia',
      'up sandozia',
      'up cognitive-reactor',
    ]);
    expect(report.services?.stopped).toEqual([]);
    expect(report.services?.api).toMatchObject({ ok: true, service: 'arkalia-api' });
    expect(sink.events).toContainEqual(expect.objectContaining({ kind: 'step', step: 'clone' }));
    // The clone beside the root is gone.
    expect((await readdir(join(root, '..'))).filter((n) => n.startsWith('.ark-'))).toEqual([]);
  });

  it('onto a fresh filesystem mounted at the root (in place): the repository and the state land in it, nothing of the clone or the restore is left', async () => {
    const root = join(await tempDir('ark-clone-mount-'), 'arkalia');
    await mkdir(join(root, 'lost+found'), { recursive: true });
    const { report, calls } = await recover(root, { url: repository });
    expect(report.placement.mode).toBe('in-place');
    expect(report.repository).toEqual({ url: repository, ref: null, commit });
    expect(await readFile(join(root, 'run_arkalia_api.py'), 'utf8')).toBe('print("api")\n');
    expect(git(root, 'rev-parse', 'HEAD')).toBe(commit);
    expect(await readFile(join(root, 'modules/zeroia/state/zeroia_state.toml'))).toEqual(
      await readFile(join(SAMPLE_ROOT, 'modules/zeroia/state/zeroia_state.toml')),
    );
    expect(existsSync(join(root, 'modules/zeroia/state/default_only.toml'))).toBe(false);
    expect(calls.filter((c) => c.startsWith('up'))).toHaveLength(6);
    // The mount point keeps its lost+found; no workspace, journal or clone remains, in it or beside it.
    expect((await readdir(root)).filter((n) => n.startsWith('.ark') || n === 'lost+found')).toEqual(['lost+found']);
    expect((await readdir(join(root, '..'))).filter((n) => n.startsWith('.ark-'))).toEqual([]);
  });

  it('a repository that cannot be cloned, or a ref it does not have, fails before anything is fetched or created', async () => {
    for (const [repo, code, exitCode] of [
      [{ url: join(repository, '..', 'nope.git') }, 'CLONE_FAILED', 1],
      [{ url: repository, ref: 'no-such-ref' }, 'USAGE', 2],
    ] as const) {
      const parent = await tempDir('ark-clone-bad-');
      const root = join(parent, 'arkalia');
      const error = await recover(root, repo).catch((e: unknown) => e);
      expect(error).toMatchObject({ code, exitCode });
      expect(await readdir(parent)).toEqual([]);
      expect(existsSync(join(root, '..', 'backup'))).toBe(false);
    }
  });

  it('without a compose file in the repository, says no service is known', async () => {
    const work = join(await tempDir('ark-clone-plain-'), 'work');
    await mkdir(work);
    await writeFile(join(work, 'README'), 'no compose here\n');
    git(work, 'init', '-q', '-b', 'main');
    git(work, 'add', '.');
    git(work, 'commit', '-q', '-m', 'x');
    const root = join(await tempDir('ark-clone-plain-root-'), 'arkalia');
    const { sink, calls } = await recover(root, { url: work });
    expect(calls).toEqual([]);
    expect(sink.events).toContainEqual(expect.objectContaining({ kind: 'warning', code: 'NO_SERVICES_KNOWN' }));
    await rm(root, { recursive: true });
  });
});
