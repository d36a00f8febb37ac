import type { ArkaliaStack } from './stack/index.ts';

/**
 * The stack of a `stack = false` scenario: there are no containers. Probes that need one are
 * refused when the scenario is loaded; anything that still asks gets "unreachable" (health
 * status 0) or an error that says why.
 */
export function noStack(root: string): ArkaliaStack {
  const none = (what: string) => new Error(`${what}: this scenario runs without containers (stack = false)`);
  const stack: ArkaliaStack = {
    runId: 'no-stack',
    root,
    containerName: (service) => {
      throw none(`container of ${service}`);
    },
    url: async (service) => {
      throw none(`url of ${service}`);
    },
    health: async () => ({ status: 0, body: null }),
    logs: async () => '',
    stop: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
  return stack;
}
