// policy: ark.policy.toml -> validated, frozen Policy (data sets, archives, schedule,
// retention, services), the services completed from docker-compose.yml (withCompose).
// Failures: unreadable file, invalid TOML, schema violations, services without a container (exit 2).
export { DEFAULT_POLICY } from './default-policy.ts';
export { loadPolicy, resolvePolicy, POLICY_FILE_NAME, type LoadedPolicy } from './load-policy.ts';
export { parseDuration } from './duration.ts';
export type { Policy, Dataset, ArchiveSpec, ServiceSpec } from './schema.ts';
export { durationSchema, serviceIssues } from './schema.ts';
export { withCompose, applyCompose, serviceModule, type PolicyWithServices } from './with-compose.ts';
