// Starts the Arkalia services as containers on a bind-mounted Arkalia root: the root's
// docker-compose.yml run by Docker Compose (startComposeStack: one project per drill,
// realistic stand-ins), or the four careful stand-ins (startArkaliaStack) in the runbook's
// order, healthy before the next; cleans up by label, even after a failed start.
import './testcontainers-env.ts';

export { DEFAULT_START_ORDER, defaultStackServices } from './default-services.ts';
export { removeArkaliaContainers } from './remove-arkalia-containers.ts';
export type { RemoveOptions } from './remove-arkalia-containers.ts';
export { StackStartError } from './stack-start-error.ts';
export { startArkaliaStack } from './start-arkalia-stack.ts';
export { startComposeStack, composeDocument, type ComposeStack, type ComposeStackOptions } from './compose-stack.ts';
export type { ArkaliaStack, HealthAnswer, StackOptions, StackServiceSpec } from './types.ts';
export { RUN_LABEL, SERVICE_LABEL } from './labels.ts';
