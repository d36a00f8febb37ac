// Test helpers of the policy stage (not used by production code).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SAMPLE_ROOT } from '../../sample/index.ts';
import { parseCompose } from '../compose/index.ts';
import { resolvePolicy } from './load-policy.ts';
import type { Policy } from './schema.ts';
import { applyCompose } from './with-compose.ts';

/**
 * The policy an operator of the sample root has: the built-in policy (with `override` merged
 * over it, as an ark.policy.toml would be) and the services of the sample's docker-compose.yml
 * (six, in depends_on order), as the restore scripts load it.
 */
export function samplePolicy(override: unknown = {}): Readonly<Policy> {
  const compose = parseCompose(readFileSync(join(SAMPLE_ROOT, 'docker-compose.yml'), 'utf8'), {
    file: join(SAMPLE_ROOT, 'docker-compose.yml'),
    env: {},
  });
  return applyCompose(resolvePolicy(override, 'test'), compose, SAMPLE_ROOT);
}
