import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256Buffer } from '../checksum/index.ts';
import { FaultFs } from '../io-faults/index.ts';
import { resolvePolicy } from '../policy/index.ts';
import { validateToml } from '../state/index.ts';
import { tempDir } from '../testing.ts';
import { type CheckResult, preStartChecks } from './pre-start-checks.ts';

let shim: FaultFs | null = null;
beforeAll(() => FaultFs.ready());
afterEach(() => {
  shim?.uninstall();
  shim = null;
});

async function root(files: Record<string, string>): Promise<string> {
  const dir = await tempDir('ark-prestart-');
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return dir;
}

const tomlCheck = async (dir: string, validated?: Map<string, string>) =>
  (
    await preStartChecks({
      root: dir,
      policy: resolvePolicy({}, 'built-in'),
      knownInvalid: new Set(),
      ...(validated ? { validated } : {}),
    })
  ).find((c) => c.check === 'toml-valid');

describe('preStartChecks: toml-valid', () => {
  const broken = 'state = {[}\n';

  it('parses every state file; one the restore validated is trusted only while it holds exactly the validated bytes', async () => {
    const dir = await root({
      'state/a.toml': 'a = 1\n',
      'state/b.toml': broken,
      'version.toml': 'current_version = "2.8.0"\n',
    });
    expect(await tomlCheck(dir)).toMatchObject({ ok: false, detail: expect.stringContaining('state/b.toml') });
    // Changed since it was validated (a different sha256): parsed again, and caught.
    expect(await tomlCheck(dir, new Map([['state/b.toml', sha256Buffer('b = 2\n')]]))).toMatchObject({
      ok: false,
      detail: expect.stringContaining('state/b.toml'),
    });
    // The very bytes the restore validated are not parsed twice (here a stand-in: the check trusts the restore's own validation).
    expect(await tomlCheck(dir, new Map([['state/b.toml', sha256Buffer(broken)]]))).toMatchObject({ ok: true });
  });
});

const services = {
  zeroia: { container: 'ark-zeroia' },
  reactor: { container: 'ark-reactor', module: 'cognitive_reactor' },
  api: { container: 'ark-api', binds: ['logs'] }, // owns no module state
};
const policy = resolvePolicy({ services }, 'test');
const healthy = {
  'modules/zeroia/state/a.toml': 'a = 1\n',
  'modules/cognitive_reactor/state/r.toml': 'r = 1\n',
  'config/app.toml': '[app]\nname = "x"\n',
  'version.toml': 'name = "arkalia"\n[tool.bumpversion]\ncurrent_version = "2.8.0"\n',
  '.env': 'SECRET=1\n',
};
async function checks(files: Record<string, string>, knownInvalid: string[] = []) {
  const dir = await root(files);
  if ('.env' in files) await chmod(join(dir, '.env'), 0o600);
  return { dir, results: await preStartChecks({ root: dir, policy, knownInvalid: new Set(knownInvalid) }) };
}
const only = (results: CheckResult[], check: string) => results.filter((r) => r.check === check);

describe('preStartChecks: a restored root', () => {
  it('a healthy root passes every check, in order, and says so', async () => {
    const { results } = await checks(healthy);
    expect(results).toEqual([
      { check: 'toml-valid', ok: true, severity: 'error', detail: '3 of 3 state/config file(s) parse' },
      { check: 'version', ok: true, severity: 'error', detail: 'Arkalia 2.8.0' },
      { check: 'env-permissions', ok: true, severity: 'warning', detail: '.env is private (0600)' },
      { check: 'module-states', ok: true, severity: 'warning', detail: 'every service has its state folder' },
    ]);
  });

  it('names every invalid state in path order, hidden ones too, but not the restore own work files; known ones are a warning', async () => {
    const broken = 'x = {[}\n';
    const { results } = await checks({
      ...healthy,
      'state/.hidden.toml': broken,
      'modules/zeroia/state/b.toml': broken,
      'config/c.toml': broken,
      'state/.ark-restore-1.toml': broken,
      'modules/.ark-restore-stage/state/s.toml': broken,
    });
    const why = `(${(validateToml(broken) as { reason: string }).reason})`;
    expect(only(results, 'toml-valid')).toEqual([
      {
        check: 'toml-valid',
        ok: false,
        severity: 'error',
        detail: `not valid TOML: config/c.toml ${why}; modules/zeroia/state/b.toml ${why}; state/.hidden.toml ${why}`,
      },
    ]);
    const known = await checks({ ...healthy, 'modules/zeroia/state/b.toml': broken, 'state/s.toml': broken }, [
      'modules/zeroia/state/b.toml',
      'state/s.toml',
    ]);
    expect(only(known.results, 'toml-valid')).toEqual([
      { check: 'toml-valid', ok: true, severity: 'error', detail: '3 of 5 state/config file(s) parse' },
    ]);
    expect(only(known.results, 'toml-known-invalid')).toEqual([
      {
        check: 'toml-known-invalid',
        ok: false,
        severity: 'warning',
        detail: `already invalid when the backup was taken, restored as they were (fix them by hand): modules/zeroia/state/b.toml ${why}; state/s.toml ${why}`,
      },
    ]);
  });

  it('version.toml: missing, unreadable, not TOML, or without a current_version (top level or in any table, never in an array)', async () => {
    const version = async (content: string | null) => {
      const files: Record<string, string> = { ...healthy };
      if (content === null) delete files['version.toml'];
      else files['version.toml'] = content;
      return only((await checks(files)).results, 'version');
    };
    expect(await version(null)).toEqual([
      { check: 'version', ok: false, severity: 'error', detail: 'version.toml cannot be read: ENOENT' },
    ]);
    const [invalid] = await version('current_version = \n');
    expect(invalid).toMatchObject({ ok: false, severity: 'error' });
    expect(invalid?.detail).toMatch(/^version\.toml is not valid TOML: .+/);
    const none = [{ check: 'version', ok: false, severity: 'warning', detail: 'version.toml has no current_version' }];
    expect(await version('name = "arkalia"\n[[releases]]\ncurrent_version = "1.0"\n')).toEqual(none);
    expect(await version('current_version = 3\n')).toEqual(none);
    expect(await version('current_version = "2.9.0"\n')).toEqual([
      { check: 'version', ok: true, severity: 'error', detail: 'Arkalia 2.9.0' },
    ]);
    expect(await version('[a]\nx = 1\n[b]\ncurrent_version = "3.0.0"\n')).toMatchObject([{ detail: 'Arkalia 3.0.0' }]);

    const dir = await root(healthy);
    shim = new FaultFs([join(dir, 'version.toml')]).install();
    shim.arm({ code: 'EIO', nth: 2 }); // the read, after the look for a link

    const results = await preStartChecks({ root: dir, policy, knownInvalid: new Set() });
    expect(only(results, 'version')).toEqual([
      {
        check: 'version',
        ok: false,
        severity: 'error',
        detail: 'version.toml cannot be read: an I/O error (the disk or its file system failed) (EIO)',
      },
    ]);
    expect(shim.injected.map((c) => c.op)).toEqual(['readFile']);
  });

  it('.env readable by others is a warning with the fix; no .env, no check', async () => {
    const dir = await root(healthy);
    await chmod(join(dir, '.env'), 0o644);
    const results = await preStartChecks({ root: dir, policy, knownInvalid: new Set() });
    expect(only(results, 'env-permissions')).toEqual([
      {
        check: 'env-permissions',
        ok: false,
        severity: 'warning',
        detail: '.env is readable by group or others (mode 644): chmod 600 .env',
      },
    ]);
    const { '.env': _, ...noEnv } = healthy;
    expect(only((await checks(noEnv)).results, 'env-permissions')).toEqual([]);
  });

  it('a service whose module has no state folder (or a file in its place) starts from empty state: a warning naming each', async () => {
    const { 'modules/zeroia/state/a.toml': _, 'modules/cognitive_reactor/state/r.toml': __, ...rest } = healthy;
    const { results } = await checks({ ...rest, 'modules/cognitive_reactor/state': 'not a folder' });
    expect(only(results, 'module-states')).toEqual([
      {
        check: 'module-states',
        ok: false,
        severity: 'warning',
        detail:
          'no state folder for zeroia (modules/zeroia/state/), reactor (modules/cognitive_reactor/state/): those services start from empty state',
      },
    ]);
  });

  it('links are never read through: version.toml as a link is an error, and every link met is named, sorted', async () => {
    const dir = await root({
      ...healthy,
      'elsewhere/v.toml': 'current_version = "6.6.6"\n',
      'elsewhere/s.toml': 's = 1\n',
    });
    await mkdir(join(dir, 'state'));
    await symlink(join(dir, 'elsewhere/s.toml'), join(dir, 'state/l.toml'));
    await rm(join(dir, 'version.toml'));
    await symlink('elsewhere/v.toml', join(dir, 'version.toml'));
    await rm(join(dir, '.env'));
    await symlink('/etc/hostname', join(dir, '.env'));
    await rm(join(dir, 'modules/zeroia/state'), { recursive: true });
    await symlink('/tmp', join(dir, 'modules/zeroia/state'));
    const results = await preStartChecks({ root: dir, policy, knownInvalid: new Set() });
    expect(only(results, 'version')).toEqual([
      {
        check: 'version',
        ok: false,
        severity: 'error',
        detail: 'version.toml is a link (to elsewhere/v.toml): not read',
      },
    ]);
    expect(only(results, 'env-permissions')).toEqual([]);
    expect(only(results, 'module-states')).toMatchObject([{ ok: true }]);
    expect(results.at(-1)).toEqual({
      check: 'links',
      ok: false,
      severity: 'warning',
      detail:
        'links in the restored tree, not read (a service would follow them): .env -> /etc/hostname, ' +
        `modules/zeroia/state -> /tmp, state/l.toml -> ${join(dir, 'elsewhere/s.toml')}, version.toml -> elsewhere/v.toml`,
    });
  });
});
