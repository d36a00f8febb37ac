// The sample Arkalia root shipped with arkalia-dr: the one place that names it. Tests, drills
// (unless --root-from names the operator's own tree) and the bench take it from here.
//
// Written for this project, modelled on a real Arkalia-LUNA installation: modules/<m>/state/,
// state/ (TOML, JSON, JSONL), global_state/, config/, .env (made-up values), logs/,
// version.toml and a docker-compose.yml with the six real services. Two of its state files
// carry the damage found in the wild: unresolved git merge-conflict markers.
import { fileURLToPath } from 'node:url';

/** Absolute path of the sample root (read-only: copy it before changing anything). */
export const SAMPLE_ROOT = fileURLToPath(new URL('./arkalia-luna-pro', import.meta.url));

/** The sample's state files committed with merge-conflict markers (invalid TOML), sorted. */
export const SAMPLE_INVALID_STATES: readonly string[] = Object.freeze([
  'state/global_context.toml',
  'state/reflexia_state.toml',
]);

/** The sample's version.toml current_version. */
export const SAMPLE_VERSION = '2.8.0';
