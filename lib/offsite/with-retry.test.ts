import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing.ts';
import { localRemote } from './local-remote.ts';
import { RemoteError } from './remote-error.ts';
import { bodyOf } from './testing/bodies.ts';
import { withFaults } from './with-faults.ts';
import { backoffDelay, DEFAULT_RETRY_POLICY, retrying, withRetry } from './with-retry.ts';

const transient = () =>
  new RemoteError('REMOTE_TRANSIENT', 'flaky', { target: 't', operation: 'list', retryable: true });

describe('withRetry', () => {
  it('backs off exponentially, capped, with ±25 % jitter', () => {
    const policy = { ...DEFAULT_RETRY_POLICY };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, () => 0.5))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000,
    ]);
    expect(backoffDelay(1, policy, () => 0)).toBe(375);
    expect(backoffDelay(4, policy, () => 0.999)).toBeLessThanOrEqual(5000);
  });

  it('retries transient failures of a real backend (every 2nd call fails) until each operation succeeds, re-opening the body', async () => {
    const faulty = withFaults(localRemote(await tempDir()), { failEvery: { n: 2 } });
    const delays: number[] = [];
    let opened = 0;
    const remote = withRetry(faulty, { sleep: async (ms) => void delays.push(ms), random: () => 0.5 });
    const body = bodyOf('payload');
    await remote.put('a.gpg', { ...body, open: () => (opened++, body.open()) });
    await remote.put('b.gpg', bodyOf('x'));
    expect((await remote.list()).map((e) => e.name)).toEqual(['a.gpg', 'b.gpg']);
    expect(faulty.calls.filter((c) => c.failed).length).toBeGreaterThanOrEqual(1);
    expect(delays.every((d) => d === 500)).toBe(true);
    expect(opened).toBe(1); // the failed attempt never reached the backend, so the body opened once
  });

  it('does not retry permanent errors or foreign errors; gives up after the budget with the attempt count', async () => {
    let calls = 0;
    const permanent = new RemoteError('REMOTE_ACCESS_DENIED', 'no', {
      target: 't',
      operation: 'put',
      retryable: false,
    });
    await expect(
      retrying(
        { target: 't', operation: 'put' },
        async () => {
          calls++;
          throw permanent;
        },
        { sleep: async () => {} },
      ),
    ).rejects.toBe(permanent);
    expect(calls).toBe(1);
    await expect(
      retrying(
        { target: 't', operation: 'put' },
        async () => {
          calls++;
          throw new TypeError('bug');
        },
        { sleep: async () => {} },
      ),
    ).rejects.toThrow('bug');
    calls = 0;
    await expect(
      retrying(
        { target: 't', operation: 'list' },
        async () => {
          calls++;
          throw transient();
        },
        { policy: { retries: 3 }, sleep: async () => {} },
      ),
    ).rejects.toMatchObject({
      code: 'REMOTE_TRANSIENT',
      retryable: false,
      message: 't: list: flaky (gave up after 4 attempts)',
    });
    expect(calls).toBe(4);
  });
});
