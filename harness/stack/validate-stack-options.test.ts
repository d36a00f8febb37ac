import { describe, expect, it } from 'vitest';
import { DEFAULT_START_ORDER, defaultStackServices } from './default-services.ts';
import { validateStackOptions } from './validate-stack-options.ts';

const base = { root: '/tmp/x', runId: 'r1', services: defaultStackServices('r1'), order: DEFAULT_START_ORDER };

describe('validateStackOptions', () => {
  it('accepts the default stack', () => {
    expect(() => validateStackOptions(base)).not.toThrow();
  });

  it('rejects a service left out of the start order', () => {
    expect(() => validateStackOptions({ ...base, order: [['reflexia'], ['zeroia', 'helloria']] })).toThrow(
      /assistantia appears 0 times/,
    );
  });

  it('rejects unknown names, bad run ids and state files outside the root', () => {
    const services = base.services.map((s) => (s.name === 'zeroia' ? { ...s, stateFile: '../etc/passwd' } : s));
    expect(() =>
      validateStackOptions({ ...base, runId: 'a b', services, order: [...base.order, ['sandozia']] }),
    ).toThrow(/runId "a b".*order names unknown service sandozia.*zeroia: stateFile/);
  });
});
