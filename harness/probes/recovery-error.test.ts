import { describe, expect, it } from 'vitest';
import { scenarioSchema } from '../scenario/index.ts';
import { runProbe } from './index.ts';
import { probeContext } from './testing.ts';

describe('recovery-error probe', () => {
  const probe = {
    probe: 'recovery-error',
    code: 'IO_NO_SPACE',
    message: 'not enough space: .* has [0-9.]+ MiB free',
  } as const;

  it('passes when the recovery stopped on that code with a message that matches, naming it', async () => {
    const ctx = await probeContext();
    ctx.recoveryError = {
      code: 'IO_NO_SPACE',
      message: 'not enough space: … has 2.0 MiB free. Nothing … was changed.',
    };
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: true,
      detail: expect.stringContaining('IO_NO_SPACE: not enough space'),
    });
  });

  it('fails on another code, another message, or no error at all', async () => {
    const ctx = await probeContext();
    ctx.recoveryError = { code: 'UNEXPECTED', message: 'not enough space: … has 2.0 MiB free' };
    expect((await runProbe(probe, ctx)).ok).toBe(false);
    ctx.recoveryError = { code: 'IO_NO_SPACE', message: 'ENOSPC: no space left on device' };
    expect((await runProbe(probe, ctx)).ok).toBe(false);
    ctx.recoveryError = null;
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/stopped on no error/),
    });
  });

  it('a message that is not a regular expression is refused when the scenario is read', () => {
    const parsed = scenarioSchema.safeParse({
      title: 't',
      objectives: { rto: 'PT1M', rpo: 'PT1H' },
      stack: false,
      steady_state: [{ probe: 'path-exists', glob: 'x' }],
      faults: [{ kind: 'delete-file', path: 'x' }],
      detect: [{ probe: 'path-exists', glob: 'x' }],
      recovery: { script: 'disaster-recovery' },
      verify: [{ probe: 'recovery-error', code: 'IO_NO_SPACE', message: '(' }],
    });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(/valid regular expression/);
  });
});
