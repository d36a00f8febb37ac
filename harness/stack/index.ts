// Starts the Arkalia services as containers on a bind-mounted Arkalia root: the root's
// docker-compose.yml run by Docker Compose (startComposeStack: one project per drill, its own
// images where the host has them, realistic stand-ins elsewhere), each depends_on layer
// healthy before the next; cleans up by label, even after a failed start.

export { removeArkaliaContainers } from './remove-arkalia-containers.ts';
export type { RemoveOptions } from './remove-arkalia-containers.ts';
export { StackStartError } from './stack-start-error.ts';
export { startComposeStack, composeDocument, type ComposeStack, type ComposeStackOptions } from './compose-stack.ts';
export type { ArkaliaStack, HealthAnswer, StackServiceSpec } from './types.ts';
export { RUN_LABEL, SERVICE_LABEL } from './labels.ts';
