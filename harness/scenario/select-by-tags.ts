import { UsageError } from '../../lib/errors.ts';
import type { Scenario } from './schema.ts';

/** Every scenario carries one schedule tag (how often the drill runs) and an area tag. */
export const SCHEDULE_TAGS = ['daily', 'weekly', 'monthly'] as const;

/**
 * The scenarios carrying at least one of `tags` (several tags = their union), in their
 * order. A tag no scenario carries is a usage error (exit 2) listing the known ones. Pure.
 */
export function selectByTags<S extends Pick<Scenario, 'id' | 'tags'>>(
  scenarios: readonly S[],
  tags: readonly string[],
): S[] {
  const known = [...new Set(scenarios.flatMap((s) => s.tags))].sort();
  const unknown = tags.filter((t) => !known.includes(t));
  if (unknown.length > 0)
    throw new UsageError(
      `unknown tag${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known tags: ${known.join(', ')}`,
    );
  return scenarios.filter((s) => s.tags.some((t) => tags.includes(t)));
}
