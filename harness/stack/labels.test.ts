import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ownerId, ownerIsGone } from './labels.ts';

describe('ownerIsGone', () => {
  it('is false for a live process of this host, true once it has exited', () => {
    expect(ownerIsGone(ownerId({}))).toBe(false);
    const exited = spawnSync(process.execPath, ['-e', '0']).pid;
    expect(ownerIsGone(`${hostname()}:${exited}`)).toBe(true);
  });

  it('treats an unlabelled object as abandoned, and another host as alive (it cannot check)', () => {
    expect(ownerIsGone(undefined)).toBe(true);
    expect(ownerIsGone('some-other-host:1')).toBe(false);
  });

  it('names the run owner set by the drills global setup', () => {
    expect(ownerId({ ARK_DR_OWNER_PID: '4242' })).toBe(`${hostname()}:4242`);
  });
});
