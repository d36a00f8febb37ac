import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parseDuration } from '../lib/policy/index.ts';
import { writeFileAtomic } from '../lib/state/index.ts';
import { tempDir } from '../lib/testing.ts';
import { copyArkaliaRoot, describeRootSource, drillRootSource } from './drill-root/index.ts';
import { noHooks, type DrillHooks } from './drill-hooks.ts';
import { injectFault, type InjectedFault } from './faults/index.ts';
import { JOURNAL_FORMAT, type Journal, type JournalStatus, type PhaseName, type PhaseRecord } from './journal.ts';
import { measureObjectives, sampleBeats, type Beat } from './measure/index.ts';
import { noStack } from './no-stack.ts';
import { pollProbes } from './poll-probes.ts';
import { takeTreeSnapshot, type ProbeContext, type ProbeResult, type TreeSnapshot } from './probes/index.ts';
import { writeDrillPolicy } from './drill-policy.ts';
import { runOperatorScript, type ScriptRunResult, scriptFailureLine } from './run-operator-script.ts';
import { expandPlaceholders, parseByteSize, type Scenario, type ScriptRun } from './scenario/index.ts';
import { type ArkaliaStack, startComposeStack } from './stack/index.ts';

/** Scripts that manage services take --services (scenarioServices) in drills, unless the scenario names --services itself. */
const execFileAsync = promisify(execFile);
const MANAGES_SERVICES = new Set(['emergency-restore', 'disaster-recovery', 'disk-recovery']);

/** compose for the Compose stack (docker when the drill's policy lists its own services, compose disabled), none without a stack. */
function scenarioServices(scenario: Scenario): 'compose' | 'docker' | 'none' {
  if (!scenario.stack) return 'none';
  return scenario.policy_services ? 'docker' : 'compose';
}

export interface RunScenarioOptions {
  hooks?: DrillHooks;
  runId?: string;
  now?: () => Date;
  /** The Arkalia tree this drill works on a fresh copy of (only read): default the sample root. */
  rootFrom?: string;
  /** --image SERVICE=IMAGE for the Compose stack. */
  images?: Readonly<Record<string, string>>;
}

class PhaseFailure extends Error {
  readonly status: JournalStatus;
  constructor(status: JournalStatus, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * One drill: workspace → stack → setup → steady state → fault → detect → recovery (a real
 * operator script, as a subprocess) → verify → steady state again → rollback. Returns the
 * journal; never throws for a failed drill (the journal says why), and always removes the
 * containers and the workspace it made.
 */
export async function runScenario(scenario: Scenario, options: RunScenarioOptions = {}): Promise<Journal> {
  const hooks = options.hooks ?? noHooks;
  const now = options.now ?? (() => new Date());
  const runId = options.runId ?? randomBytes(4).toString('hex');
  const started = now();
  const phases: PhaseRecord[] = [];
  const faults: InjectedFault[] = [];
  let status: JournalStatus = 'completed';
  let error: string | null = null;
  let stack: ArkaliaStack | null = null;
  let recovery: ScriptRunResult | null = null;
  let faultAt: Date | null = null;
  let recoveryStartedAt: Date | undefined;
  let recoveredAt: Date | null = null;
  let beatsAtFault: Beat[] = [];
  let beatsAfter: Beat[] = [];
  const rootFrom = options.rootFrom ?? drillRootSource({});
  const root = join(await tempDir('ark-root-'), basename(rootFrom));
  const backupDir = await tempDir('ark-backups-');
  // The drill's workspace ({work}): keys, a local offsite target ({work}/offsite), what faults stash.
  const work = await tempDir('ark-work-');
  await mkdir(join(work, 'offsite'));
  /** The services the stack runs: the compose file's (none without a stack). */
  let serviceNames: string[] = [];
  /** The tmpfs the root is on (scenario.root_disk), unmounted at the end. */
  let rootDisk: string | null = null;
  // What the tree was before the fault and before the recovery (matches-snapshot probes).
  const snapshots: { fault?: TreeSnapshot; recovery?: TreeSnapshot } = {};
  const treeSnapshot = () => takeTreeSnapshot({ root, backup: backupDir, work });
  const fromFaults = (pick: (f: InjectedFault) => Record<string, string> | undefined): Record<string, string> =>
    Object.assign({}, ...faults.map((f) => pick(f) ?? {}));
  const expand = (text: string) =>
    expandPlaceholders(text, { root, backup: backupDir, work, now: started, extra: fromFaults((f) => f.vars) });
  const ctx = (): ProbeContext => ({
    root,
    backupDir,
    stack: stack ?? noStack(root),
    faults,
    recoveryResult: recovery?.result ?? null,
    recoveryError: (recovery?.json?.error as Record<string, unknown> | null | undefined) ?? null,
    work,
    snapshots,
    expand,
    env: fromFaults((f) => f.probeEnv ?? f.env),
    ...(recoveryStartedAt ? { recoveryStartedAt } : {}),
  });

  // Each phase is an Allure step and a journal record; a failed phase ends the drill.
  const phase = async (
    name: PhaseName,
    body: () => Promise<{ ok: boolean; output?: string; probes?: ProbeResult[]; failure?: [JournalStatus, string] }>,
  ) => {
    const t0 = now();
    const record: PhaseRecord = { name, started_at: t0.toISOString(), ended_at: '', duration_ms: 0, ok: false };
    phases.push(record);
    try {
      await hooks.step(name, async () => {
        const result = await body();
        Object.assign(record, {
          ok: result.ok,
          ...(result.output !== undefined ? { output: result.output } : {}),
          ...(result.probes ? { probes: result.probes } : {}),
        });
        if (result.probes)
          await hooks.attach(`${name} probes`, JSON.stringify(result.probes, null, 2), 'application/json');
        if (!result.ok) throw new PhaseFailure(...(result.failure ?? ['failed', `${name} failed`]));
      });
    } catch (thrown) {
      record.ok = false;
      record.error ??= (thrown as Error).message;
      throw thrown instanceof PhaseFailure
        ? thrown
        : new PhaseFailure(
            name === 'root' || name === 'stack' ? 'aborted' : 'failed',
            `${name}: ${(thrown as Error).message}`,
          );
    } finally {
      const t1 = now();
      record.ended_at = t1.toISOString();
      record.duration_ms = t1.getTime() - t0.getTime();
    }
  };

  const scriptPhase = async (run: ScriptRun, extra: string[]) => {
    const args = [...run.args.map(expand), '--root', root, '--backup-dir', backupDir, ...extra];
    const result = await runOperatorScript(run.script, args, {
      timeoutMs: parseDuration(run.timeout),
      env: { ...process.env, ...fromFaults((f) => f.env) },
    });
    await hooks.attach(
      `${run.script} output`,
      `$ ${result.argv.join(' ')}\nexit ${result.exitCode}${result.timedOut ? ' (timed out, killed)' : ''}\n\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`,
      'text/plain',
    );
    const ok = result.exitCode !== null && run.expect_exit.includes(result.exitCode);
    // What a CI log shows of a failed run: how it ended, and why the script says it stopped.
    const said = scriptFailureLine(result);
    const ended = result.timedOut ? 'timed out' : `exited ${result.exitCode}`;
    return {
      result,
      ok,
      failed: `${run.script} ${ended} (expected ${run.expect_exit.join('|')})${said ? `: ${said}` : ''}`,
      output: `${run.script} exit ${result.exitCode} (expected ${run.expect_exit.join('|')}) in ${result.durationMs} ms\n${result.stderr.slice(-4000)}`,
    };
  };

  try {
    await hooks.attach('scenario', await readFile(scenario.file, 'utf8'), 'text/plain');
    // 0. A fresh copy of the drill's Arkalia tree (the sample, or the operator's own: only read).
    await phase('root', async () => {
      if (scenario.root_disk) {
        // The root and the folder around it (where a restore stages) on a disk of their own.
        await execFileAsync('mount', [
          '-t',
          'tmpfs',
          '-o',
          `size=${parseByteSize(scenario.root_disk)},mode=0700`,
          'tmpfs',
          dirname(root),
        ]);
        rootDisk = dirname(root);
      }
      const copied = await copyArkaliaRoot(rootFrom, root);
      const skipped = copied.skipped.length > 0 ? `; not copied: ${copied.skipped.join(', ')}` : '';
      return {
        ok: true,
        output: `root: a copy of ${describeRootSource(rootFrom)} (${copied.files} files, ${copied.bytes} bytes)${skipped}`,
      };
    });
    if (!scenario.stack) await writeDrillPolicy(root, work, null);

    // 1. The Arkalia stack: the root's compose file as one Compose project, each layer healthy before the next.
    await phase('stack', async () => {
      if (!scenario.stack)
        return { ok: true, output: 'stack = false: no containers; the scripts run on the root as subprocesses' };
      const composed = await startComposeStack({
        root,
        runId,
        work,
        ...(options.images ? { images: options.images } : {}),
        ...(scenario.standins?.tear_ms !== undefined ? { tearMs: scenario.standins.tear_ms } : {}),
        ...(scenario.standins?.traits ? { traits: scenario.standins.traits } : {}),
        ...(scenario.standins?.repository ? { repository: join(work, 'arkalia.git') } : {}),
      });
      stack = composed;
      serviceNames = Object.keys(composed.compose.services);
      await writeDrillPolicy(root, work, composed, scenario.policy_services);
      const images = Object.entries(composed.images).map(([n, i]) => `${n}=${i.standIn ? 'stand-in' : i.image}`);
      return {
        ok: true,
        output: `compose project ${composed.project} up (${composed.composeFile}): ${images.join(', ')}${scenario.policy_services ? `; the policy names only ${scenario.policy_services.join(', ')}` : ''}`,
      };
    });

    // 2. Setup: operator scripts that must run first (a backup to restore from).
    await phase('setup', async () => {
      const outputs: string[] = [];
      for (const run of scenario.setup) {
        if ('write' in run) {
          await writeFileAtomic(join(root, run.write), run.content);
          outputs.push(`wrote ${run.write} (${Buffer.byteLength(run.content)} bytes)`);
          continue;
        }
        const { ok, output, failed } = await scriptPhase(run, []);
        outputs.push(output);
        if (!ok) return { ok, output: outputs.join('\n'), failure: ['failed', `setup script ${failed}`] };
      }
      return { ok: true, output: outputs.join('\n') };
    });

    // 3. The steady state must hold before we break anything.
    await phase('steady-state-before', async () => {
      const { ok, results } = await pollProbes(scenario.steady_state, ctx(), 20_000);
      return { ok, probes: results, failure: ['failed', 'the steady state did not hold before the fault'] };
    });

    // 4. Inject the faults.
    await phase('fault', async () => {
      snapshots.fault = await treeSnapshot();
      beatsAtFault = await sampleBeats(ctx().stack, serviceNames);
      faultAt = now();
      for (const fault of scenario.faults)
        faults.push(await injectFault(fault, { root, backupDir, stack, work, expand }));
      return { ok: true, output: faults.map((f) => `${f.kind}: ${f.description}`).join('\n') };
    });

    // 5. The fault must be visible: a drill whose fault changes nothing proves nothing.
    await phase('detect', async () => {
      const { ok, results } = await pollProbes(scenario.detect, ctx(), parseDuration(scenario.detect_timeout));
      return { ok, probes: results, failure: ['failed', 'the fault was not detected: the drill would prove nothing'] };
    });

    // 6. Recovery: the real operator script, as an operator runs it.
    const recover = async (run: ScriptRun) => {
      const services =
        MANAGES_SERVICES.has(run.script) && !run.args.includes('--services')
          ? ['--services', scenarioServices(scenario)]
          : [];
      const { result, ok, output, failed } = await scriptPhase(run, [...services, '--json']);
      recovery = result;
      const changes =
        (result.result?.changes as { path: string; action: string; backup_sha256: string | null }[] | undefined) ?? [];
      const restored = changes
        .filter((c) => c.backup_sha256)
        .map((c) => `${c.backup_sha256}  ${c.path}  (${c.action})`);
      if (restored.length > 0) await hooks.attach('restored files (sha256)', `${restored.join('\n')}\n`, 'text/plain');
      return {
        ok,
        output,
        failure: ['failed', `recovery script ${failed}`] as [JournalStatus, string],
      };
    };
    await phase('recovery', async () => {
      snapshots.recovery = await treeSnapshot();
      recoveryStartedAt = now();
      return recover(scenario.recovery);
    });

    // 7. Verify, then the steady state again; RTO ends when both hold.
    await phase('verify', async () => {
      const { ok, results } = await pollProbes(scenario.verify, ctx(), parseDuration(scenario.verify_timeout));
      return { ok, probes: results, failure: ['deviated', 'verification failed after recovery'] };
    });
    // 7b. A recovery refused for a cause the operator removes (a full disk): clear the faults, run it again.
    const retry = scenario.retry;
    if (retry) {
      await phase('fault-cleared', async () => {
        const cleared = faults.filter((f) => retry.clear.includes(f.kind));
        for (const fault of [...cleared].reverse()) await fault.revert();
        const output = `cleared ${cleared.length} fault(s): ${cleared.map((f) => f.description).join('; ')}`;
        return {
          ok: cleared.length > 0,
          output,
          failure: ['failed', `no fault of kind ${retry.clear.join(', ')} to clear`],
        };
      });
      await phase('retry', () => recover(retry.recovery));
      await phase('retry-verify', async () => {
        const { ok, results } = await pollProbes(retry.verify, ctx(), parseDuration(scenario.verify_timeout));
        return { ok, probes: results, failure: ['deviated', 'verification failed after the recovery was run again'] };
      });
    }
    await phase('steady-state-after', async () => {
      const { ok, results, at } = await pollProbes(
        scenario.steady_state,
        ctx(),
        parseDuration(scenario.verify_timeout),
      );
      recoveredAt = ok ? at : null;
      beatsAfter = await sampleBeats(ctx().stack, serviceNames);
      return { ok, probes: results, failure: ['deviated', 'the steady state did not come back after recovery'] };
    });
  } catch (thrown) {
    status = thrown instanceof PhaseFailure ? thrown.status : 'aborted';
    error = (thrown as Error).message;
  }

  const recoveryPoint =
    ((recovery as ScriptRunResult | null)?.result?.backup as { recovery_point?: string } | undefined)?.recovery_point ??
    null;
  const measured = measureObjectives({
    faultAt,
    recoveredAt,
    before: beatsAtFault,
    after: beatsAfter,
    recoveryPoint,
    objectives: scenario.objectives,
  });
  if (status === 'completed' && (measured.rto_met === false || measured.rpo_met === false)) {
    status = 'deviated';
    error = `objectives not met: RTO ${measured.rto_ms} ms (objective ${scenario.objectives.rto}), RPO ${measured.rpo_ms} ms (objective ${scenario.objectives.rpo})`;
  }

  // 8. Rollback, logs, teardown: always, whatever happened above.
  try {
    if (scenario.rollback === 'always' || (scenario.rollback === 'on-failure' && status !== 'completed')) {
      await phase('rollback', async () => {
        for (const fault of [...faults].reverse()) await fault.revert();
        return { ok: true, output: `reverted ${faults.length} fault(s)` };
      }).catch(() => {});
    }
    if (status !== 'completed' && stack) {
      for (const name of serviceNames)
        await hooks.attach(
          `${name} logs`,
          await (stack as ArkaliaStack).logs(name, 50).catch((e: Error) => e.message),
          'text/plain',
        );
    }
  } finally {
    await (stack as ArkaliaStack | null)?.stop();
    if (rootDisk) {
      const disk = rootDisk;
      await execFileAsync('umount', [disk]).catch(() => execFileAsync('umount', ['-l', disk]).catch(() => {}));
    }
  }
  const backups = await listBackupsUsed(backupDir);
  for (const b of backups) await hooks.attach(`checksums ${b.dir.split('/').at(-1)}`, b.checksums, 'text/plain');
  if (!process.env.ARK_KEEP_WORKDIR)
    await Promise.all([
      rm(dirname(root), { recursive: true, force: true }),
      rm(backupDir, { recursive: true, force: true }),
      rm(work, { recursive: true, force: true }),
    ]);

  const ended = now();
  const rec = recovery as ScriptRunResult | null;
  return {
    format: JOURNAL_FORMAT,
    scenario: scenario.id,
    title: scenario.title,
    file: scenario.file,
    run_id: runId,
    tags: scenario.tags,
    root_from: describeRootSource(rootFrom),
    status,
    started_at: started.toISOString(),
    ended_at: ended.toISOString(),
    duration_ms: ended.getTime() - started.getTime(),
    phases,
    objectives: scenario.objectives,
    measurements: { rto_from: 'fault-injection', ...measured, recovery_point: recoveryPoint },
    recovery: rec
      ? { script: rec.script, argv: rec.argv, exit_code: rec.exitCode, duration_ms: rec.durationMs, result: rec.result }
      : null,
    backups,
    error,
  };
}

async function listBackupsUsed(backupDir: string): Promise<{ dir: string; checksums: string }[]> {
  const { findBackups } = await import('../lib/restore/index.ts');
  const out: { dir: string; checksums: string }[] = [];
  for (const b of await findBackups(backupDir))
    out.push({ dir: b.dir, checksums: await readFile(b.checksumFile, 'utf8').catch(() => '') });
  return out;
}
