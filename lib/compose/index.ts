// compose: the Arkalia root's docker-compose.yml (or --compose FILE) as the source of truth
// for services: names, container names, start order from depends_on, healthchecks, published
// ports, bind mounts; and who mounts a path. Failures: unreadable file, bad YAML, a
// dependency on an unknown service, a depends_on cycle, a required variable unset: ComposeError (exit 2) naming the file.
export {
  readCompose,
  parseCompose,
  type ComposeProject,
  type ComposeService,
  type ComposeBind,
  type ReadComposeOptions,
} from './read-compose.ts';
export { startGroups } from './start-groups.ts';
export { interpolate } from './interpolate.ts';
