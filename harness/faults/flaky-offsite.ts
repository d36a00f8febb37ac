import { z } from 'zod';
import { startFailingProxy } from './failing-proxy.ts';
import { defineFault, type FaultContext, type InjectedFault } from './fault.ts';

/** An S3 offsite (s3rver) behind a loopback proxy that fails every nth request with 503 SlowDown. */
const schema = z.strictObject({
  kind: z.literal('flaky-offsite'),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{2,62}$/)
    .default('arkalia'),
  fail_every: z.number().int().min(2).max(100).default(3),
});

export const flakyOffsiteFault = defineFault({
  kind: 'flaky-offsite',
  schema,
  needsStack: false,
  inject: injectFlakyOffsite,
});

type FlakyOffsite = z.infer<typeof schema>;

/** Retries fast in drills: the first backoff delay of remote-sync (default 500 ms). */
export const DRILL_RETRY_DELAY_MS = '100';

/**
 * An S3 offsite that fails intermittently: an S3 server (s3rver, on loopback, with `bucket`)
 * behind a proxy that answers every nth request 503 SlowDown. Operator scripts get its
 * endpoint and credentials in their environment (target s3://<bucket>/<prefix>); probes reach
 * the server directly. {offsite_url} is the failing endpoint. Revert stops both.
 */
export async function injectFlakyOffsite(fault: FlakyOffsite, _ctx: FaultContext): Promise<InjectedFault> {
  const { startS3rver } = await import('../../lib/offsite/testing/s3rver.ts'); // s3rver loads only for this fault
  const s3 = await startS3rver({ buckets: [fault.bucket], lifetimeMs: 15 * 60_000 });
  const proxy = await startFailingProxy(s3.endpoint, fault.fail_every).catch(async (error: unknown) => {
    await s3.stop();
    throw error;
  });
  return {
    kind: fault.kind,
    description: `s3://${fault.bucket} behind ${proxy.url}, which answers every ${ordinal(fault.fail_every)} request 503 SlowDown`,
    env: { ...s3.env, ARK_S3_ENDPOINT: proxy.url, ARK_OFFSITE_RETRY_DELAY_MS: DRILL_RETRY_DELAY_MS },
    probeEnv: s3.env,
    vars: { offsite_url: proxy.url },
    async revert() {
      await proxy.close();
      await s3.stop();
    },
  };
}

const ordinal = (n: number) =>
  `${n}${n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`;
