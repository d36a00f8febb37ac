import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from './run-scenario.ts';
import { loadScenario, SCENARIO_DIR, type Scenario } from './scenario/index.ts';

// The chaos suite's drills must fail when the recovery is broken, when the fault is not seen
// and when "changes nothing" is not true, and must clean up (faults reverted, mounts gone)
// even then. These use the container-less scenarios: a few seconds each.

const load = (id: string) => loadScenario(join(SCENARIO_DIR, `${id}.toml`));
const phase = (journal: Awaited<ReturnType<typeof runScenario>>, name: string) =>
  journal.phases.find((p) => p.name === name);
const tmpfsMounts = async () =>
  (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').filter((l) => / \/tmp\/ark-backups-\S+ /.test(l)).length;

describe('chaos drills can fail', () => {
  it('a backup re-run that writes nothing (--dry-run) after an interrupted backup is caught by verification', async () => {
    const scenario = await load('interrupted-full-backup');
    const journal = await runScenario({
      ...scenario,
      recovery: { ...scenario.recovery, args: ['--dry-run'] },
      verify_timeout: 'PT2S',
    });
    expect(journal.status).toBe('deviated');
    expect(phase(journal, 'recovery')?.ok).toBe(true);
    expect(phase(journal, 'verify')?.probes?.find((p) => p.probe.startsWith('backup-verifies'))).toMatchObject({
      ok: false,
    });
    expect(journal.measurements.rto_ms).toBeNull();
  });

  it('a recovery expected to fail and change nothing, that changes the backups anyway, is caught', async () => {
    const scenario = await load('wrong-decryption-key');
    const changing: Scenario = {
      ...scenario,
      recovery: { script: 'full-backup', args: ['--replace'], expect_exit: [0, 3], timeout: 'PT2M' },
      verify_timeout: 'PT2S',
    };
    const journal = await runScenario(changing);
    expect(journal.status).toBe('deviated');
    expect(phase(journal, 'verify')?.probes?.find((p) => p.probe.startsWith('matches-snapshot backup:'))).toMatchObject(
      { ok: false, detail: expect.stringMatching(/changed/) },
    );
  });

  it('a fault the detect probes cannot see fails before any recovery, and its tmpfs is unmounted anyway', async () => {
    const scenario = await load('disk-full-backup');
    const mounts = await tmpfsMounts();
    const journal = await runScenario({
      ...scenario,
      faults: [{ kind: 'disk-full', in: 'backup', path: '.', free: '4MiB' }],
      detect_timeout: 'PT2S',
    });
    expect(journal.status).toBe('failed');
    expect(journal.error).toMatch(/not detected/);
    expect(journal.phases.map((p) => p.name)).not.toContain('recovery');
    expect(phase(journal, 'rollback')?.ok).toBe(true);
    expect(await tmpfsMounts()).toBe(mounts);
  });

  it('a script that is killed too late (it finished first) fails the fault phase instead of proving nothing', async () => {
    const scenario = await load('interrupted-full-backup');
    const journal = await runScenario({
      ...scenario,
      faults: [
        {
          kind: 'kill-script',
          script: 'full-backup',
          args: [],
          when: { in: 'backup', glob: 'never-appears' },
          timeout: 'PT2M',
        },
      ],
    });
    expect(journal.status).toBe('failed');
    expect(phase(journal, 'fault')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/full-backup finished \(exit \d\) before backup:never-appears appeared/),
    });
  });
});
