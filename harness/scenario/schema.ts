import { z } from 'zod';
import { durationSchema } from '../../lib/policy/schema.ts';
import { chaosFaultSchemas, chaosProbeSchemas, LOCATIONS, NEEDS_STACK, placeholderString } from './chaos-schemas.ts';

// The scenario language (TOML, one drill per file). Borrowed from Chaos Toolkit: steady
// state before and after, faults with automatic revert, a real recovery script, rollbacks.

const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), { message: 'must be a path relative to the Arkalia root, without ".."' });

const serviceName = z.string().regex(/^[a-z][a-z0-9_-]*$/);

const probeVariants = [
  z.strictObject({ probe: z.literal('http'), service: serviceName, path: z.string().startsWith('/'), status: z.number().int().min(0).max(599), body_contains: z.string().optional() }),
  z.strictObject({ probe: z.literal('toml-valid'), glob: z.union([relPath, z.array(relPath).min(1)]), exclude: z.array(relPath).default([]) }),
  /** `date`: the recovery must have used that backup (a fallback drill), and the files must match it. */
  z.strictObject({ probe: z.literal('matches-backup'), paths: z.array(relPath).min(1), date: z.string().regex(/^\d{8}$/).optional() }),
  z.strictObject({ probe: z.literal('corrupt-copy-preserved'), module: z.string().regex(/^[a-z][a-z0-9_]*$/) }),
  z.strictObject({ probe: z.literal('service-healthy'), service: serviceName }),
  z.strictObject({ probe: z.literal('no-temp-files'), paths: z.array(relPath).default(['.']), in: z.enum(LOCATIONS).default('root') }),
  ...chaosProbeSchemas,
] as const;

/** `{ probe = "not", of = { probe = ... } }` passes when its probe fails (e.g. a state is no longer valid TOML). */
export const probeSchema = z.discriminatedUnion('probe', [...probeVariants, z.strictObject({ probe: z.literal('not'), of: z.discriminatedUnion('probe', probeVariants) })]);

export const SCRIPT_NAMES = ['full-backup', 'emergency-restore', 'realtime-snapshot', 'prune', 'encrypted-backup', 'keys', 'remote-sync', 'disaster-recovery', 'disk-recovery', 'verify'] as const;

export const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('corrupt-toml'),
    path: relPath,
    mode: z.enum(['conflict-markers', 'truncate', 'garbage', 'bit-flip', 'empty', 'invalid-utf8']),
  }),
  /** disk_failure_simulation: a folder (or file) of the root gone, its files vanishing for the services too. */
  z.strictObject({ kind: z.literal('hide-path'), path: relPath }),
  /** An archive of the newest (or a dated) daily backup damaged, its checksum file left as it was. */
  z.strictObject({
    kind: z.literal('corrupt-archive'),
    backup: z.string().regex(/^(newest|\d{8})$/, { message: 'newest or YYYYMMDD' }).default('newest'),
    archive: z.string().regex(/^[a-z][a-z0-9_]*$/).default('states'),
    mode: z.enum(['bit-flip', 'truncate']).default('bit-flip'),
  }),
  ...chaosFaultSchemas(SCRIPT_NAMES),
]);

const scriptRun = z.strictObject({
  script: z.enum(SCRIPT_NAMES, { error: `must name an operator script: ${SCRIPT_NAMES.join(', ')}` }),
  args: z.array(placeholderString).default([]),
  /** Exit codes that count as success (full-backup exits 3 when live states are invalid). */
  expect_exit: z.array(z.number().int().min(0).max(255)).min(1).default([0]),
  timeout: durationSchema.default('PT5M'),
});

export const scenarioSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/).optional(),
  title: z.string().min(1),
  description: z.string().optional(),
  tags: z.array(z.string().regex(/^[a-z0-9-]+$/)).default([]),
  severity: z.enum(['blocker', 'critical', 'normal', 'minor', 'trivial']).default('normal'),
  objectives: z.strictObject({ rto: durationSchema, rpo: durationSchema }),
  setup: z.array(scriptRun).default([]),
  steady_state: z.array(probeSchema).min(1),
  faults: z.array(faultSchema).min(1),
  detect: z.array(probeSchema).min(1, { message: 'a drill whose fault is not observed proves nothing: give at least one detect probe' }),
  detect_timeout: durationSchema.default('PT30S'),
  recovery: scriptRun,
  verify: z.array(probeSchema).min(1),
  verify_timeout: durationSchema.default('PT60S'),
  rollback: z.enum(['always', 'on-failure', 'never']).default('always'),
  /** false: no containers (pure backup, snapshot, key and offsite drills); the scripts still run as subprocesses. */
  stack: z.boolean().default(true),
}).superRefine(checkStackUse);

/** Cross-field rules: what needs the containers; how a kill-script fault knows when to kill. */
function checkStackUse(s: { stack: boolean; faults: Fault[]; steady_state: Probe[]; detect: Probe[]; verify: Probe[] }, ctx: z.RefinementCtx): void {
  const phases = { steady_state: s.steady_state, detect: s.detect, verify: s.verify };
  for (const [phase, probes] of Object.entries(phases)) {
    probes.forEach((p, i) => {
      const inner = p.probe === 'not' ? p.of : p;
      if (!s.stack && NEEDS_STACK.probes.has(inner.probe)) ctx.addIssue({ code: 'custom', path: [phase, i, 'probe'], message: `probe ${inner.probe} needs the containers: not with stack = false` });
    });
  }
  s.faults.forEach((f, i) => {
    if (!s.stack && NEEDS_STACK.faults.has(f.kind)) ctx.addIssue({ code: 'custom', path: ['faults', i, 'kind'], message: `fault ${f.kind} needs the containers: not with stack = false` });
    if (f.kind === 'kill-script' && (f.when === undefined) === (f.after === undefined)) ctx.addIssue({ code: 'custom', path: ['faults', i], message: 'kill-script needs exactly one of `when` (kill when a glob matches) or `after` (a delay)' });
  });
}

export type Scenario = z.infer<typeof scenarioSchema> & { id: string; file: string };
export type Probe = z.infer<typeof probeSchema>;
export type Fault = z.infer<typeof faultSchema>;
export type ScriptRun = z.infer<typeof scriptRun>;
