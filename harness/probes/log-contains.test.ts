import { describe, expect, it } from 'vitest';
import { probeSchema, runProbe } from './index.ts';
import { probeContext } from './testing.ts';

const LOG = [
  'zeroia started on /app/modules/zeroia/state/zeroia_state.toml sha256=ab12 sequence=4',
  'zeroia: state /app/modules/zeroia/state/zeroia_state.toml does not parse (Unexpected character): overwritten with a fresh state',
].join('\n');

async function withLogs(text: string) {
  const ctx = await probeContext();
  const asked: { service: string; tail?: number }[] = [];
  ctx.stack = {
    ...ctx.stack,
    logs: async (service, tail) => {
      asked.push({ service, ...(tail !== undefined ? { tail } : {}) });
      return text;
    },
  };
  return { ctx, asked };
}

describe('log-contains probe', () => {
  it('passes on a matching line of the service log, quoting it, and reads the tail asked for', async () => {
    const { ctx, asked } = await withLogs(LOG);
    const probe = probeSchema.parse({
      probe: 'log-contains',
      service: 'zeroia',
      pattern: 'does not parse.*fresh state',
      tail: 50,
    });
    const result = await runProbe(probe, ctx);
    expect(result).toMatchObject({ ok: true, probe: 'log-contains zeroia /does not parse.*fresh state/' });
    expect(result.detail).toMatch(/^zeroia: state .* does not parse/);
    expect(asked).toEqual([{ service: 'zeroia', tail: 50 }]);
  });

  it('fails when no line matches, and `not` of it then passes', async () => {
    const { ctx } = await withLogs(LOG);
    const probe = probeSchema.parse({ probe: 'log-contains', service: 'zeroia', pattern: 'write failed' });
    expect(await runProbe(probe, ctx)).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/no line of the last 2/),
    });
    expect(await runProbe(probeSchema.parse({ probe: 'not', of: probe }), ctx)).toMatchObject({ ok: true });
  });

  it('refuses a pattern that is not a regular expression when the scenario is read', () => {
    const parsed = probeSchema.safeParse({ probe: 'log-contains', service: 'zeroia', pattern: '(unclosed' });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(/not a valid regular expression/);
  });
});
