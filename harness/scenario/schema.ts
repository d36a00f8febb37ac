import { z } from 'zod';
import { durationSchema } from '../../lib/policy/schema.ts';

// The scenario language (TOML, one drill per file). Borrowed from Chaos Toolkit: steady
// state before and after, faults with automatic revert, a real recovery script, rollbacks.

const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), { message: 'must be a path relative to the Arkalia root, without ".."' });

const serviceName = z.string().regex(/^[a-z][a-z0-9_-]*$/);

export const probeSchema = z.discriminatedUnion('probe', [
  z.strictObject({ probe: z.literal('http'), service: serviceName, path: z.string().startsWith('/'), status: z.number().int().min(0).max(599), body_contains: z.string().optional() }),
  z.strictObject({ probe: z.literal('toml-valid'), glob: z.union([relPath, z.array(relPath).min(1)]), exclude: z.array(relPath).default([]) }),
  z.strictObject({ probe: z.literal('matches-backup'), paths: z.array(relPath).min(1) }),
  z.strictObject({ probe: z.literal('corrupt-copy-preserved'), module: z.string().regex(/^[a-z][a-z0-9_]*$/) }),
  z.strictObject({ probe: z.literal('service-healthy'), service: serviceName }),
  z.strictObject({ probe: z.literal('no-temp-files'), paths: z.array(relPath).default(['.']) }),
]);

export const faultSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('corrupt-toml'),
    path: relPath,
    mode: z.enum(['conflict-markers', 'truncate', 'garbage', 'bit-flip', 'empty', 'invalid-utf8']),
  }),
]);

export const SCRIPT_NAMES = ['full-backup', 'emergency-restore'] as const;

const scriptRun = z.strictObject({
  script: z.enum(SCRIPT_NAMES, { error: `must name an operator script: ${SCRIPT_NAMES.join(', ')}` }),
  args: z.array(z.string()).default([]),
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
});

export type Scenario = z.infer<typeof scenarioSchema> & { id: string; file: string };
export type Probe = z.infer<typeof probeSchema>;
export type Fault = z.infer<typeof faultSchema>;
export type ScriptRun = z.infer<typeof scriptRun>;
