import { describe, expect, it } from 'vitest';
import { containerPath } from './container-path.ts';

const mounts = [
  { source: 'state', target: '/app/state' },
  { source: 'modules/zeroia/state', target: '/app/modules/zeroia/state' },
  { source: 'modules', target: '/srv/modules', readOnly: true },
];

describe('containerPath', () => {
  it('maps a file through the most specific mount', () => {
    expect(containerPath(mounts, 'modules/zeroia/state/zeroia_state.toml')).toBe(
      '/app/modules/zeroia/state/zeroia_state.toml',
    );
    expect(containerPath(mounts, 'modules/reflexia/state/r.toml')).toBe('/srv/modules/reflexia/state/r.toml');
  });

  it('does not mistake a sibling with a common prefix for a child', () => {
    expect(containerPath(mounts, 'state2/x.toml')).toBeUndefined();
  });

  it('maps through a mount of the whole root', () => {
    expect(containerPath([{ source: '.', target: '/app' }], 'state/a.toml')).toBe('/app/state/a.toml');
  });
});
