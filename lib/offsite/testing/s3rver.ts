import { rm } from 'node:fs/promises';
import S3rver from 's3rver';
import { tempDir } from '../../testing.ts';

export interface TestS3 {
  endpoint: string;
  port: number;
  /** The environment remote-sync.mts reads: endpoint and s3rver's fixed credentials. */
  env: Record<string, string>;
  credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

/**
 * s3rver (an S3 implementation in Node) on 127.0.0.1 with a random port, its data in a temp
 * folder, with the given buckets. It runs in the test process and stops itself after
 * `lifetimeMs` even when a test forgets to (afterAll should call stop()).
 */
export async function startS3rver(options: { buckets: string[]; lifetimeMs?: number }): Promise<TestS3> {
  const directory = await tempDir('ark-s3rver-');
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      clearTimeout(timer);
      await server.close().catch(() => {});
      await rm(directory, { recursive: true, force: true });
    })();
    return stopped;
  };
  const timer = setTimeout(() => void stop(), options.lifetimeMs ?? 120_000);
  timer.unref();
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  return {
    endpoint,
    port,
    credentials,
    env: {
      ARK_S3_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
    },
    stop,
  };
}
