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
  /** The container's name. Taken from docker-compose.yml when the service is defined there. */
  container: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: 'not a valid container name' })
    .optional(),
  /** The module whose `modules/<module>/state/` this service owns, if any (compose: the module state folder it bind-mounts). */
  module: z
    .string()
    .regex(/^[a-z][a-z0-9_]*$/)
    .optional(),
  /** The container port that `health_path` and the API check are asked on (compose: its first published port). */
  port: z.number().int().min(1).max(65535).optional(),
  /** An HTTP health path, probed on the published port. Without one, health is the container's own healthcheck (Docker's health status), else "running". */
  health_path: z.string().startsWith('/').optional(),
  health_timeout: durationSchema.default('PT60S'),
  /** The parts of the root (or absolute host paths) the service bind-mounts (compose: its bind mounts). */
  binds: z.array(relOrAbsPath).optional(),
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
      /** Later points of a day are all kept this many hours, then one a day (rule 5 of prune.mts --help). */
      points_hours: z.number().int().min(1).optional(),
    }),
    schedule: z.strictObject({ full: durationSchema }),
    /** Where the services come from: the root's compose file, unless disabled (then only [services]). */
    compose: z.strictObject({
      /** Relative to the root, or absolute. */
      file: relOrAbsPath.default('docker-compose.yml'),
      enabled: z.boolean().default(true),
      /** The Compose project name (`docker compose -p`); default: the compose file's own rule. */
      project: z
        .string()
        .regex(/^[a-z0-9][a-z0-9_-]*$/, { message: 'lowercase letters, digits, "-" and "_", as Compose wants' })
        .optional(),
    }),
    services: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/), serviceSchema),
    /** Start groups, in order (each group in parallel). Empty: the compose file's depends_on order. */
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
  });

/**
 * The service references of a policy whose services are complete (after docker-compose.yml
 * filled them in): every service has a container, the API check and the start order name
 * services that exist, none twice.
 */
export function serviceIssues(
  policy: Pick<Policy, 'services' | 'start_order' | 'api'>,
): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  for (const [name, spec] of Object.entries(policy.services))
    if (spec.container === undefined)
      issues.push({
        path: ['services', name, 'container'],
        message: 'no container name: set container, or define the service in docker-compose.yml',
      });
  if (policy.api && !(policy.api.service in policy.services))
    issues.push({
      path: ['api', 'service'],
      message: `names service "${policy.api.service}", which is not defined under [services] or in docker-compose.yml`,
    });
  const seen = new Set<string>();
  policy.start_order.forEach((group, i) =>
    group.forEach((svc, j) => {
      if (!(svc in policy.services))
        issues.push({
          path: ['start_order', i, j],
          message: `names service "${svc}", which is not defined under [services] or in docker-compose.yml`,
        });
      if (seen.has(svc)) issues.push({ path: ['start_order', i, j], message: `service "${svc}" appears twice` });
      seen.add(svc);
    }),
  );
  return issues;
}

export type Policy = z.infer<typeof policySchema>;
export type Dataset = z.infer<typeof datasetSchema>;
export type ArchiveSpec = z.infer<typeof archiveSchema>;
export type ServiceSpec = z.infer<typeof serviceSchema>;
