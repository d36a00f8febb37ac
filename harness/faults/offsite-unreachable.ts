import { createServer } from 'node:net';
import { z } from 'zod';
import { inPath, location } from '../scenario/fields.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';
import { expandIn, faultPath } from './fault-path.ts';
import { DRILL_RETRY_DELAY_MS } from './flaky-offsite.ts';
import { stashAway } from './stash.ts';

/** The offsite target fails: its folder is gone, or {offsite_url} is a closed port (S3 env for scripts). */
const schema = z.strictObject({
  kind: z.literal('offsite-unreachable'),
  how: z.enum(['missing-folder', 'closed-port']).default('missing-folder'),
  in: location('work'),
  path: inPath.default('offsite'),
});

export const offsiteUnreachableFault = defineFault({
  kind: 'offsite-unreachable',
  schema,
  needsStack: false,
  inject: injectOffsiteUnreachable,
});

type OffsiteUnreachable = z.infer<typeof schema>;

/**
 * The offsite target cannot be reached. missing-folder: the local offsite folder (an unmounted
 * disk) is gone; revert puts it back unless something recreated it. closed-port: scripts get an
 * S3 endpoint ({offsite_url}) on a loopback port nobody listens on; revert has nothing to undo.
 */
export async function injectOffsiteUnreachable(fault: OffsiteUnreachable, ctx: FaultContext): Promise<InjectedFault> {
  if (fault.how === 'missing-folder') {
    const stashed = await stashAway(faultPath(ctx, fault.in, fault.path), ctx, 'offsite');
    return {
      kind: fault.kind,
      description: `offsite folder ${fault.in}:${expandIn(ctx, fault.path)} unreachable (gone)`,
      revert: async () => void (await stashed.putBack()),
    };
  }
  const url = `http://127.0.0.1:${await closedPort()}`;
  return {
    kind: fault.kind,
    description: `offsite endpoint ${url}: nothing listens there`,
    env: {
      ARK_S3_ENDPOINT: url,
      AWS_ACCESS_KEY_ID: 'ARKALIA-DR',
      AWS_SECRET_ACCESS_KEY: 'not-a-secret',
      AWS_REGION: 'us-east-1',
      ARK_OFFSITE_RETRY_DELAY_MS: DRILL_RETRY_DELAY_MS,
    },
    vars: { offsite_url: url },
    revert: async () => {},
  };
}

/** A loopback port that was free a moment ago (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
