// policy: ark.policy.toml -> validated, frozen Policy (data sets, archives, schedule,
// retention, services). Failures: unreadable file, invalid TOML, schema violations (exit 2).
export { DEFAULT_POLICY } from './default-policy.ts';
export { loadPolicy, resolvePolicy, POLICY_FILE_NAME, type LoadedPolicy } from './load-policy.ts';
export { parseDuration } from './duration.ts';
export type { Policy, Dataset, ArchiveSpec, ServiceSpec } from './schema.ts';
export { durationSchema } from './schema.ts';
