import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../lib/testing.ts';
import { loadScenario, SCENARIO_DIR } from './index.ts';

async function load(text: string) {
  const file = join(await tempDir('ark-chaos-scn-'), 'chaos.toml');
  await writeFile(file, text);
  return loadScenario(file);
}

const noStack = `title = "t"
tags = ["daily", "backup"]
stack = false
objectives = { rto = "PT1M", rpo = "PT1H" }
setup = [{ script = "keys", args = ["generate", "--out-dir", "{work}/keys"] }]
steady_state = [{ probe = "backup-verifies" }]
faults = [{ kind = "delete-backup", part = "checksums" }]
detect = [{ probe = "not", of = { probe = "backup-verifies", date = "{date}" } }]
recovery = { script = "prune", expect_exit = [3] }
verify = [{ probe = "matches-snapshot", in = "backup", at = "recovery" }]
`;

describe('chaos suite scenario language', () => {
  it('parses stack = false, placeholders, `not` probes and the new faults with their defaults', async () => {
    const s = await load(noStack);
    expect(s.stack).toBe(false);
    expect(s.setup[0]).toMatchObject({ args: ['generate', '--out-dir', '{work}/keys'] });
    expect(s.detect[0]).toEqual({ probe: 'not', of: { probe: 'backup-verifies', date: '{date}' } });
    expect(s.faults[0]).toEqual({ kind: 'delete-backup', date: 'newest', part: 'checksums' });
    expect(s.verify[0]).toEqual({
      probe: 'matches-snapshot',
      in: 'backup',
      paths: ['.'],
      at: 'recovery',
      ignore_heartbeat: false,
    });
    expect((await loadScenario(join(SCENARIO_DIR, 'corrupt-zeroia-state.toml'))).stack).toBe(true);
  });

  it('rejects what cannot work, by field and reason, before anything runs', async () => {
    const cases: [string, RegExp][] = [
      [
        `${noStack}`.replace(
          '{ probe = "backup-verifies" }',
          '{ probe = "http", service = "zeroia", path = "/health", status = 200 }',
        ),
        /steady_state\.0\.probe: probe http needs the containers/,
      ],
      [
        noStack.replace(
          '{ kind = "delete-backup", part = "checksums" }',
          '{ kind = "kill-service", service = "zeroia" }',
        ),
        /faults\.0\.kind: fault kill-service needs the containers/,
      ],
      [
        noStack.replace(
          '{ kind = "delete-backup", part = "checksums" }',
          '{ kind = "kill-script", script = "full-backup" }',
        ),
        /faults\.0: kill-script needs exactly one of `when`/,
      ],
      [
        noStack.replace(
          '{ kind = "delete-backup", part = "checksums" }',
          '{ kind = "kill-script", script = "rm", after = "PT1S" }',
        ),
        /faults\.0\.script/,
      ],
      [noStack.replace('{work}/keys', '{wrk}/keys'), /setup\.0\.args\.2: unknown placeholder \{wrk\}/],
      [noStack.replace('in = "backup", at = "recovery"', 'in = "etc"'), /verify\.0\.in/],
      [
        noStack.replace(
          '{ kind = "delete-backup", part = "checksums" }',
          '{ kind = "delete-file", path = "../../etc/passwd" }',
        ),
        /faults\.0\.path: must be a path relative/,
      ],
      [
        noStack.replace('{ kind = "delete-backup", part = "checksums" }', '{ kind = "disk-full", free = "a lot" }'),
        /faults\.0\.free: a size in bytes/,
      ],
      [
        noStack.replace(
          '{ probe = "not", of = { probe = "backup-verifies", date = "{date}" } }',
          '{ probe = "not", of = { probe = "not", of = { probe = "backup-verifies" } } }',
        ),
        /detect\.0\.of/,
      ],
    ];
    for (const [text, pattern] of cases) await expect(load(text)).rejects.toThrow(pattern);
  });

  it('lose-disk runs with the containers (killed with the disk) or without', async () => {
    const lost = noStack.replace('{ kind = "delete-backup", part = "checksums" }', '{ kind = "lose-disk" }');
    expect((await load(lost)).faults).toEqual([{ kind: 'lose-disk', new_host: false }]);
    expect((await load(lost.replace('stack = false\n', ''))).stack).toBe(true);
  });

  it('the Compose stack (the default) with its options; policy_services and standins need it', async () => {
    const composed = noStack
      .replace('stack = false\n', 'policy_services = ["zeroia"]\nstandins = { tear_ms = 200, repository = true }\n')
      .replace(
        '{ kind = "delete-backup", part = "checksums" }',
        '{ kind = "kill-service", service = "zeroia", during = "in-place-write", restart = true }',
      );
    const s = await load(composed);
    expect(s.stack).toBe(true);
    expect(s.policy_services).toEqual(['zeroia']);
    expect(s.standins).toEqual({ tear_ms: 200, repository: true });
    expect(s.faults[0]).toEqual({
      kind: 'kill-service',
      service: 'zeroia',
      during: 'in-place-write',
      attempts: 40,
      restart: true,
    });
    await expect(
      load(noStack.replace('stack = false\n', 'stack = false\npolicy_services = ["zeroia"]\n')),
    ).rejects.toThrow(/policy_services needs the stack: not with stack = false/);
    await expect(
      load(noStack.replace('stack = false\n', 'stack = false\nstandins = { tear_ms = 1 }\n')),
    ).rejects.toThrow(/standins needs the stack/);
    // The four careful stand-ins are gone: "compose" (what the Compose stack was first called) is not a value any more.
    await expect(load(noStack.replace('stack = false\n', 'stack = "compose"\n'))).rejects.toThrow(/stack/);
  });

  it('the shipped example still reads the same after the schema grew', async () => {
    expect(await readFile(join(SCENARIO_DIR, 'corrupt-zeroia-state.toml'), 'utf8')).toMatch(/kind = "corrupt-toml"/);
  });
});
