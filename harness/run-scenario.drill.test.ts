import { join } from 'node:path';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { runScenario } from './run-scenario.ts';
import { RUN_LABEL } from './stack/index.ts';
import { loadScenario, SCENARIO_DIR } from './scenario/index.ts';

// A drill that passes when the recovery script claims success and does nothing would
// manufacture audit evidence. These runs use deliberately broken recoveries and must fail.

const scenario = await loadScenario(join(SCENARIO_DIR, 'corrupt-zeroia-state.toml'));

/** Containers (and networks) left by one run; other runs may be going on beside it. */
async function leftovers(runId: string): Promise<number> {
  const docker = new Docker();
  const filters = { label: [`${RUN_LABEL}=${runId}`] };
  return (await docker.listContainers({ all: true, filters })).length + (await docker.listNetworks({ filters })).length;
}

describe('drills can fail', () => {
  it('a recovery that exits 0 but changes nothing (--dry-run) is caught by verification', async () => {
    const journal = await runScenario({
      ...scenario,
      recovery: { ...scenario.recovery, args: ['zeroia', '--dry-run'] },
      verify_timeout: 'PT5S',
    });
    expect(journal.status).toBe('deviated');
    const recovery = journal.phases.find((p) => p.name === 'recovery')!;
    expect(recovery.ok).toBe(true); // the script itself said all was well
    const verify = journal.phases.find((p) => p.name === 'verify')!;
    expect(verify.ok).toBe(false);
    expect(verify.probes!.find((p) => p.probe.startsWith('matches-backup'))).toMatchObject({ ok: false });
    expect(verify.probes!.find((p) => p.probe.startsWith('corrupt-copy-preserved'))).toMatchObject({ ok: false });
    expect(journal.measurements.rto_ms).toBeNull();
    expect(await leftovers(journal.run_id)).toBe(0);
  });

  it('restoring the wrong module fails the drill', async () => {
    const wrong = await runScenario({
      ...scenario,
      recovery: { ...scenario.recovery, args: ['reflexia'] },
      verify_timeout: 'PT5S',
    });
    expect(wrong.status).toBe('deviated');
    expect(wrong.phases.find((p) => p.name === 'verify')?.ok).toBe(false);
    expect(await leftovers(wrong.run_id)).toBe(0);
  });

  it('a disk recovery that restores the root but does not start the services (--services none) fails the drill, and everything is cleaned up', async () => {
    const lost = await loadScenario(join(SCENARIO_DIR, 'lose-disk.toml'));
    const journal = await runScenario({
      ...lost,
      recovery: { ...lost.recovery, args: [...lost.recovery.args, '--services', 'none'] },
      verify_timeout: 'PT5S',
    });
    expect(journal.status).toBe('deviated');
    const argv = journal.recovery!.argv;
    expect(argv.filter((a, i) => argv[i - 1] === '--services')).toEqual(['none']); // the harness did not add --services docker
    expect(journal.phases.find((p) => p.name === 'recovery')?.ok).toBe(true); // the script itself said all was well (exit 0; the known-invalid files named)
    const verify = journal.phases.find((p) => p.name === 'verify')!;
    expect(verify.probes!.filter((p) => p.probe.startsWith('service-healthy')).map((p) => p.ok)).toEqual(
      Array(6).fill(false),
    );
    expect(verify.probes!.find((p) => p.probe.startsWith('http arkalia-api/status'))).toMatchObject({ ok: false });
    // The files were restored: only the services are missing, and that alone fails the drill.
    expect(
      verify
        .probes!.filter((p) => p.probe.startsWith('matches-backup') || p.probe.startsWith('backup-verifies'))
        .map((p) => p.ok),
    ).toEqual([true, true]);
    expect(journal.measurements.rto_ms).toBeNull();
    expect(await leftovers(journal.run_id)).toBe(0);
  });

  it('a disaster recovery that leaves the writers running (--services none) fails the unnamed-writer drill: they never started on the restored bytes', async () => {
    const writers = await loadScenario(join(SCENARIO_DIR, 'unnamed-writer-disaster-recovery.toml'));
    const journal = await runScenario({
      ...writers,
      recovery: { ...writers.recovery, args: ['--services', 'none'] },
      verify_timeout: 'PT5S',
    });
    expect(journal.status).toBe('deviated');
    expect(journal.phases.find((p) => p.name === 'recovery')?.ok).toBe(true); // the script itself said all was well
    const verify = journal.phases.find((p) => p.name === 'verify')!;
    const started = verify.probes!.filter((p) => p.probe.startsWith('started-on-restored'));
    expect(started.map((p) => p.ok)).toEqual([false, false]);
    for (const p of started) expect(p.detail).toMatch(/was not restarted by the recovery: it kept running/);
    // Left running, the writers rewrote the restored files: they no longer match what was restored.
    expect(verify.probes!.find((p) => p.probe.startsWith('matches-backup'))).toMatchObject({ ok: false });
    expect(await leftovers(journal.run_id)).toBe(0);
  });

  it('an emergency restore that does not stop zeroia (--services none) fails the torn-write drill: it runs on, never started on the restored state', async () => {
    const torn = await loadScenario(join(SCENARIO_DIR, 'zeroia-torn-in-place-write.toml'));
    const journal = await runScenario({
      ...torn,
      recovery: { ...torn.recovery, args: ['zeroia', '--services', 'none'] },
      verify_timeout: 'PT5S',
    });
    expect(journal.status, journal.error ?? '').toBe('deviated');
    expect(journal.phases.find((p) => p.name === 'fault')?.output).toMatch(/torn at [1-9]\d* bytes/);
    const verify = journal.phases.find((p) => p.name === 'verify')!;
    expect(verify.probes!.find((p) => p.probe.startsWith('started-on-restored zeroia'))).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/was not restarted by the recovery/),
    });
    expect(await leftovers(journal.run_id)).toBe(0);
  });

  it('a disk recovery on a new host that cannot create containers (--services docker) fails the new-host drill', async () => {
    const host = await loadScenario(join(SCENARIO_DIR, 'lose-disk-new-host.toml'));
    const journal = await runScenario({
      ...host,
      recovery: { ...host.recovery, args: [...host.recovery.args, '--services', 'docker'] },
      verify_timeout: 'PT5S',
    });
    expect(journal.status).toBe('deviated');
    expect(journal.phases.find((p) => p.name === 'recovery')?.output).toMatch(
      /no container .*arkalia-api.* on this host/,
    );
    const verify = journal.phases.find((p) => p.name === 'verify')!;
    expect(verify.probes!.find((p) => p.probe === 'container-exists arkalia-api = true')).toMatchObject({ ok: false });
    // The files came back (from the repository and the offsite copy); only the stack did not.
    expect(verify.probes!.find((p) => p.probe.startsWith('matches-backup'))).toMatchObject({ ok: true });
    expect(await leftovers(journal.run_id)).toBe(0);
  });

  it('a fault the detect probes cannot see fails the drill before any recovery runs', async () => {
    // zeroia never reads its decision log, so corrupting it leaves nothing in its log.
    const unseen = await runScenario({
      ...scenario,
      faults: [{ kind: 'corrupt-toml', path: 'modules/zeroia/state/zeroia_decision_log.toml', mode: 'garbage' }],
      detect: [{ probe: 'log-contains', service: 'zeroia', pattern: 'does not parse', tail: 500 }],
      detect_timeout: 'PT3S',
    });
    expect(unseen.status).toBe('failed');
    expect(unseen.error).toMatch(/not detected/);
    expect(unseen.phases.map((p) => p.name)).not.toContain('recovery');
    expect(await leftovers(unseen.run_id)).toBe(0);
  });
});
