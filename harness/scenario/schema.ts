import { z } from 'zod';
import { durationSchema } from '../../lib/policy/index.ts';
import { faultSchema, FAULTS_NEEDING_STACK, type Fault } from '../faults/index.ts';
import { probeSchema, PROBES_NEEDING_STACK, type Probe } from '../probes/index.ts';
import { byteSize, placeholderString, relPath, SCRIPT_NAMES } from './fields.ts';

// The scenario language (TOML, one drill per file). Borrowed from Chaos Toolkit: steady
// state before and after, faults with automatic revert, a real recovery script, rollbacks.
// Each fault and probe kind declares its own fields (faults/<kind>.ts, probes/<kind>.ts);
// this file puts them together and checks what spans several fields.

export { faultSchema, probeSchema, SCRIPT_NAMES, type Fault, type Probe };

const scriptRun = z.strictObject({
  script: z.enum(SCRIPT_NAMES, { error: `must name an operator script: ${SCRIPT_NAMES.join(', ')}` }),
  args: z.array(placeholderString).default([]),
  /** Exit codes that count as success (full-backup exits 3 when live states are invalid). */
  expect_exit: z.array(z.number().int().min(0).max(255)).min(1).default([0]),
  timeout: durationSchema.default('PT5M'),
});

/**
 * A change made between setup scripts, as an operator or a service would make it (a database
 * edit after the night's backup): `content` written atomically to `write`, under the root.
 */
const setupWrite = z.strictObject({ write: relPath, content: z.string() });

export const scenarioSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/)
      .optional(),
    title: z.string().min(1),
    description: z.string().optional(),
    tags: z.array(z.string().regex(/^[a-z0-9-]+$/)).default([]),
    severity: z.enum(['blocker', 'critical', 'normal', 'minor', 'trivial']).default('normal'),
    objectives: z.strictObject({ rto: durationSchema, rpo: durationSchema }),
    setup: z.array(z.union([scriptRun, setupWrite])).default([]),
    steady_state: z.array(probeSchema).min(1),
    faults: z.array(faultSchema).min(1),
    detect: z
      .array(probeSchema)
      .min(1, { message: 'a drill whose fault is not observed proves nothing: give at least one detect probe' }),
    detect_timeout: durationSchema.default('PT30S'),
    recovery: scriptRun,
    verify: z.array(probeSchema).min(1),
    verify_timeout: durationSchema.default('PT60S'),
    /**
     * What the operator does once the first recovery was refused: the faults are cleared (the
     * disk freed) and the same recovery is run again, then checked; the steady state must come
     * back after it. RTO runs to then.
     */
    retry: z
      .strictObject({
        /** The kinds of fault the operator clears first (disk-full: space freed); the others stay. */
        clear: z.array(z.string()).min(1),
        recovery: scriptRun,
        verify: z.array(probeSchema).min(1),
      })
      .optional(),
    /**
     * The drill root on a file system of its own of this size (a tmpfs holding the root and the
     * folder around it, where a restore stages; needs root), so that a disk-full fault with
     * `in_place` can fill the very disk the services write to.
     */
    root_disk: byteSize.optional(),
    rollback: z.enum(['always', 'on-failure', 'never']).default('always'),
    /**
     * true (the default): the drill root's docker-compose.yml run by Docker Compose, one
     * project per drill (six services for Arkalia's; realistic stand-ins where the real images
     * are not here); false: no containers (pure backup, snapshot, key and offsite drills; the
     * scripts still run as subprocesses).
     */
    stack: z.boolean().default(true),
    /**
     * With the stack: the services the drill's policy names (the operator's
     * ark.policy.toml, with [compose] disabled). Default: the compose file's, all of them. A
     * running service left out is a writer the policy does not name.
     */
    policy_services: z
      .array(z.string().regex(/^[a-z][a-z0-9_-]*$/))
      .min(1)
      .optional(),
    /** With the stack: how the stand-ins run (a slow in-place write that a kill can tear). */
    standins: z
      .strictObject({
        /** Once a kill-service in-place-write fault makes the disk slow: zeroia's in-place rewrite pauses this long between its halves (ms; default 0). */
        tear_ms: z.number().int().min(0).max(5_000).optional(),
        /** Per service, its traits replaced (names from harness/arkalia/traits.mjs, comma-separated). */
        traits: z.record(z.string(), z.string()).optional(),
        /**
         * The stack's own repository as a bare git repository at {work}/arkalia.git (its compose
         * file, a Dockerfile that rebuilds the stand-in offline); the stack runs the image built
         * from it: what disk-recovery --clone --build starts from on a new host.
         */
        repository: z.boolean().optional(),
      })
      .optional(),
  })
  .superRefine(checkStackUse);

/** Cross-field rules: what needs the containers; how a kill-script fault knows when to kill. */
function checkStackUse(
  s: {
    stack: boolean;
    policy_services?: string[] | undefined;
    standins?: unknown;
    faults: Fault[];
    steady_state: Probe[];
    detect: Probe[];
    verify: Probe[];
  },
  ctx: z.RefinementCtx,
): void {
  if (s.standins && !s.stack)
    ctx.addIssue({ code: 'custom', path: ['standins'], message: 'standins needs the stack: not with stack = false' });
  if (s.policy_services && !s.stack)
    ctx.addIssue({
      code: 'custom',
      path: ['policy_services'],
      message: 'policy_services needs the stack: not with stack = false',
    });
  const phases = { steady_state: s.steady_state, detect: s.detect, verify: s.verify };
  for (const [phase, probes] of Object.entries(phases)) {
    probes.forEach((p, i) => {
      const inner = p.probe === 'not' ? p.of : p;
      if (!s.stack && PROBES_NEEDING_STACK.has(inner.probe))
        ctx.addIssue({
          code: 'custom',
          path: [phase, i, 'probe'],
          message: `probe ${inner.probe} needs the containers: not with stack = false`,
        });
    });
  }
  s.faults.forEach((f, i) => {
    if (!s.stack && FAULTS_NEEDING_STACK.has(f.kind))
      ctx.addIssue({
        code: 'custom',
        path: ['faults', i, 'kind'],
        message: `fault ${f.kind} needs the containers: not with stack = false`,
      });
    if (f.kind === 'kill-script' && (f.when === undefined) === (f.after === undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['faults', i],
        message: 'kill-script needs exactly one of `when` (kill when a glob matches) or `after` (a delay)',
      });
  });
}

export type Scenario = z.infer<typeof scenarioSchema> & { id: string; file: string };
export type ScriptRun = z.infer<typeof scriptRun>;
