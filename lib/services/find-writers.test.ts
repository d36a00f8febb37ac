import { describe, expect, it } from 'vitest';
import { findWriters } from './find-writers.ts';

const ROOT = '/srv/arkalia';
const running = (name: string, ...bindSources: string[]) => ({ name, bindSources });

describe('findWriters: running containers that bind-mount what a restore replaces', () => {
  const containers = [
    running('zeroia', '/srv/arkalia/modules/zeroia/state', '/srv/arkalia/logs', '/srv/arkalia/state'),
    running('cognitive-reactor', '/srv/arkalia/modules/cognitive_reactor/state', '/srv/arkalia/state'),
    running('whole-root', '/srv/arkalia'),
    running('modules-watcher', '/srv/arkalia/modules'),
    running('env-reader', '/srv/arkalia/.env'),
    running('elsewhere', '/srv/other/state', '/srv/arkalia-old/state', '/var/lib/x'),
    running('logs-only', '/srv/arkalia/logs'),
  ];

  it('one module state folder: its owner, and whoever mounts a folder above it', () => {
    expect(findWriters(containers, [ROOT], ['modules/zeroia/state/'])).toEqual([
      { container: 'zeroia', sources: ['/srv/arkalia/modules/zeroia/state'] },
      { container: 'whole-root', sources: ['/srv/arkalia'] },
      { container: 'modules-watcher', sources: ['/srv/arkalia/modules'] },
    ]);
  });

  it('the system data sets (globs, files): every writer of state/, modules/*/state/, .env; never a sibling folder with a common prefix', () => {
    const names = findWriters(containers, [ROOT], ['modules/*/state/', 'state/', 'global_state/', '.env']).map(
      (w) => w.container,
    );
    expect(names).toEqual(['zeroia', 'cognitive-reactor', 'whole-root', 'modules-watcher', 'env-reader']);
    expect(findWriters(containers, [ROOT], ['state/'])[0]).toEqual({
      container: 'zeroia',
      sources: ['/srv/arkalia/state'],
    });
  });

  it('the whole root (a disk recovery placing a new tree): everyone who mounts anything in it', () => {
    expect(findWriters(containers, [ROOT], ['.']).map((w) => w.container)).not.toContain('elsewhere');
    expect(findWriters(containers, [ROOT], ['.'])).toHaveLength(6);
  });

  it('matches the root by any of its spellings (as given, or its real path)', () => {
    const viaLink = [running('zeroia', '/data/arkalia/modules/zeroia/state')];
    expect(findWriters(viaLink, [ROOT], ['modules/zeroia/state/'])).toEqual([]);
    expect(findWriters(viaLink, [ROOT, '/data/arkalia'], ['modules/zeroia/state/'])).toHaveLength(1);
  });
});
