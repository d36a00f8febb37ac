import { z } from 'zod';

// The policy, after parsing: what to back up, how often, how long to keep it, and which
// services hold which state. Field names are snake_case because they come from TOML.

const isoDuration = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;

export const durationSchema = z
  .string()
  .regex(isoDuration, { message: 'expected an ISO-8601 duration such as PT6H, P1D or P30D' });

export const frequencySchema = z.union([z.literal('realtime'), durationSchema], {
  error: 'expected "realtime" or an ISO-8601 duration such as PT6H',
});

const relOrAbsPath = z
  .string()
  .min(1)
  .refine((p) => !p.split('/').includes('..'), { message: 'must not contain ".." segments' });

export const datasetSchema = z.strictObject({
  /** Paths or globs (`*` within one segment). Relative to the Arkalia root, or absolute. */
  paths: z.array(relOrAbsPath).min(1),
  /** Which archive of the daily backup holds this data set. */
  archive: z.string().regex(/^[a-z][a-z0-9_]*$/),
  frequency: frequencySchema,
  criticality: z.enum(['critical', 'high', 'medium', 'low']).default('high'),
});

export const archiveSchema = z.strictObject({
  /** File name prefix: `<prefix>_<YYYYMMDD>.tar.gz`. */
  prefix: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  /** Holds secrets such as `.env`: written with mode 0600. */
  sensitive: z.boolean().default(false),
  /** Encrypted and sent offsite by encrypted-backup / remote-sync. */
  offsite: z.boolean().default(false),
  /** gzip level 0-9; 0 stores (for incompressible data such as model weights). */
  gzip_level: z.number().int().min(0).max(9).default(6),
  /**
   * "gzip" (`.tar.gz`, what the runbook and `tar -xzf` expect), "zstd" (`.tar.zst`, several
   * times faster; needs the zstd program, read with `tar --zstd -xf`) or "none" (`.tar`).
   */
  compression: z.enum(['gzip', 'zstd', 'none']).default('gzip'),
  /** zstd level 1-19 when compression = "zstd". */
  zstd_level: z.number().int().min(1).max(19).default(3),
});

export const serviceSchema = z.strictObject({
  container: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: 'not a valid container name' }),
  /** The module whose `modules/<module>/state/` this service owns, if any. */
  module: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .optional(),
  port: z.number().int().min(1).max(65535),
  health_path: z.string().startsWith('/').default('/health'),
  health_timeout: durationSchema.default('PT60S'),
});

export const policySchema = z
  .strictObject({
    version: z.literal(1).default(1),
    datasets: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), datasetSchema),
    archives: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), archiveSchema),
    realtime: z.strictObject({
      paths: z.array(relOrAbsPath).min(1),
      keep: durationSchema,
    }),
    validation: z.strictObject({
      /** TOML files that must parse; invalid ones are archived but reported (exit 3). */
      toml: z.array(relOrAbsPath),
    }),
    retention: z.strictObject({
      daily_days: z.number().int().min(1),
      keep_daily: z.number().int().min(0).optional(),
      keep_weekly: z.number().int().min(0).optional(),
      keep_monthly: z.number().int().min(0).optional(),
    }),
    schedule: z.strictObject({ full: durationSchema }),
    services: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), serviceSchema),
    start_order: z.array(z.array(z.string()).min(1)),
    /** The API check that ends a disaster recovery (runbook: curl -f http://localhost:8000/status). */
    api: z
      .strictObject({
        service: z.string(),
        path: z.string().startsWith('/').default('/status'),
        timeout: durationSchema.default('PT60S'),
      })
      .optional(),
  })
  .superRefine((policy, ctx) => {
    for (const [name, ds] of Object.entries(policy.datasets)) {
      if (!(ds.archive in policy.archives)) {
        ctx.addIssue({
          code: 'custom',
          path: ['datasets', name, 'archive'],
          message: `names archive "${ds.archive}", which is not defined under [archives]`,
        });
      }
    }
    if (policy.api && !(policy.api.service in policy.services)) {
      ctx.addIssue({
        code: 'custom',
        path: ['api', 'service'],
        message: `names service "${policy.api.service}", which is not defined under [services]`,
      });
    }
    const seen = new Set<string>();
    policy.start_order.forEach((group, i) =>
      group.forEach((svc, j) => {
        if (!(svc in policy.services)) {
          ctx.addIssue({
            code: 'custom',
            path: ['start_order', i, j],
            message: `names service "${svc}", which is not defined under [services]`,
          });
        }
        if (seen.has(svc))
          ctx.addIssue({ code: 'custom', path: ['start_order', i, j], message: `service "${svc}" appears twice` });
        seen.add(svc);
      }),
    );
  });

export type Policy = z.infer<typeof policySchema>;
export type Dataset = z.infer<typeof datasetSchema>;
export type ArchiveSpec = z.infer<typeof archiveSchema>;
export type ServiceSpec = z.infer<typeof serviceSchema>;
