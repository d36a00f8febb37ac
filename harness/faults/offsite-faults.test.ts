import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { injectFault } from './index.ts';
import { faultContext } from './testing.ts';

describe('offsite-unreachable fault', () => {
  it('missing-folder: the offsite folder is gone until revert', async () => {
    const ctx = await faultContext();
    await writeFile(join(ctx.work, 'offsite', 'SHA256SUMS'), 'x\n');
    const fault = await injectFault(
      { kind: 'offsite-unreachable', how: 'missing-folder', in: 'work', path: 'offsite' },
      ctx,
    );
    expect(await readdir(ctx.work)).not.toContain('offsite');
    await fault.revert();
    await fault.revert();
    expect(await readdir(join(ctx.work, 'offsite'))).toEqual(['SHA256SUMS']);
  });

  it('closed-port: scripts get an S3 endpoint nobody answers on', async () => {
    const ctx = await faultContext();
    const fault = await injectFault(
      { kind: 'offsite-unreachable', how: 'closed-port', in: 'work', path: 'offsite' },
      ctx,
    );
    expect(fault.env?.ARK_S3_ENDPOINT).toBe(fault.vars?.offsite_url);
    await expect(fetch(fault.vars!.offsite_url!)).rejects.toThrow();
    await fault.revert();
  });
});

describe('flaky-offsite fault', () => {
  it('fronts a real S3 server with a proxy failing every nth request (503 SlowDown); probes get the server itself; revert stops both', async () => {
    const ctx = await faultContext();
    const fault = await injectFault({ kind: 'flaky-offsite', bucket: 'arkalia', fail_every: 3 }, ctx);
    const url = fault.vars!.offsite_url!;
    expect(fault.env?.ARK_S3_ENDPOINT).toBe(url);
    expect(fault.probeEnv?.ARK_S3_ENDPOINT).not.toBe(url);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await fetch(`${url}/arkalia`)).status);
    expect(statuses.map((s) => s === 503)).toEqual([false, false, true, false, false, true]);
    const direct = await fetch(`${fault.probeEnv!.ARK_S3_ENDPOINT}/arkalia`);
    expect(direct.status).toBe(200);
    await fault.revert();
    await fault.revert();
    await expect(fetch(`${url}/arkalia`)).rejects.toThrow();
  });
});
