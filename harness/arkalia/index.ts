// The stand-in Arkalia services: plain .mjs that run inside the containers (node +
// @iarna/toml only). This index tells the image builder what to ship, and lets drills
// read a state file's heartbeat (sequence, written_at) to measure data loss.
import { fileURLToPath } from 'node:url';

export { HEARTBEAT_MARKER, readHeartbeat, stripHeartbeat, withHeartbeat } from './heartbeat.mjs';
export type { Heartbeat } from './heartbeat.mjs';
export { SERVICES as STANDIN_SERVICES, TRAITS as STANDIN_TRAITS } from './traits.mjs';
export { jsonHeartbeat } from './realistic.mjs';

/** Folder holding the stand-in program; its files go to /app in the image. */
export const STANDIN_APP_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Everything the container runs. Tests and type declarations stay out of the image. */
export const STANDIN_APP_FILES: readonly string[] = [
  'standin.mjs',
  'healthcheck.mjs',
  'state-file.mjs',
  'heartbeat.mjs',
  'realistic.mjs',
  'traits.mjs',
];
