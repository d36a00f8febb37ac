import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { placeholderString } from '../scenario/fields.ts';
import { expand } from './locate.ts';
import type { ProbeContext, ProbeResult } from './probe-context.ts';
import { encryptedDir, isEncryptedName, SUMS_FILE } from '../../lib/layout/index.ts';
import { defineProbe } from './probe.ts';

/** The offsite target (a folder, or s3://bucket/prefix) holds every local encrypted/ file byte for byte. */
const schema = z.strictObject({ probe: z.literal('offsite-matches'), target: placeholderString });

export const offsiteMatchesProbe = defineProbe({
  probe: 'offsite-matches',
  schema,
  needsStack: false,
  describe: (probe) => `offsite-matches ${probe.target}`,
  run: (probe, ctx) => offsiteMatches(probe.target, ctx),
});

/**
 * The offsite copy is really there: every local <backup>/encrypted/*.gpg exists on the target
 * with the same sha256, and the target's SHA256SUMS vouches for it. Reads the target directly
 * (a folder, or S3 through the SDK with the endpoint of the drill's environment), not through
 * our offsite code, and not through a fault-injecting proxy.
 */
export async function offsiteMatches(target: string, ctx: ProbeContext): Promise<ProbeResult> {
  const where = expand(ctx, target);
  const probe = `offsite-matches ${where}`;
  const local = encryptedDir(ctx.backupDir);
  const names = (await readdir(local).catch(() => [] as string[])).filter(isEncryptedName).sort();
  if (names.length === 0) return { probe, ok: false, detail: `nothing to compare: no .gpg in ${local}` };
  const read = where.startsWith('s3://')
    ? s3Reader(where, { ...process.env, ...ctx.env })
    : (name: string) => readFile(join(where, name));
  const sums = (await read(SUMS_FILE).catch(() => null))?.toString('utf8') ?? '';
  const problems: string[] = [];
  for (const name of names) {
    const expected = sha(await readFile(join(local, name)));
    const remote = await read(name).catch((e: Error) => e);
    if (remote instanceof Error) problems.push(`${name}: not readable on the target (${remote.message})`);
    else if (sha(remote) !== expected) problems.push(`${name}: differs on the target`);
    else if (!sums.split('\n').includes(`${expected}  ${name}`))
      problems.push(`${name}: not vouched for by the target's SHA256SUMS`);
  }
  return {
    probe,
    ok: problems.length === 0,
    detail: problems.length === 0 ? `${names.length} file(s) identical on ${where}` : problems.join('; '),
  };
}

function s3Reader(url: string, env: Record<string, string | undefined>): (name: string) => Promise<Buffer> {
  const [bucket = '', ...rest] = url.slice('s3://'.length).split('/');
  const prefix = rest.filter(Boolean).join('/');
  const endpoint = env.ARK_S3_ENDPOINT ?? env.AWS_ENDPOINT_URL;
  // The AWS SDK loads only when an S3 offsite is probed (half a second of start-up otherwise).
  const sdk = import('@aws-sdk/client-s3');
  const client = sdk.then(
    ({ S3Client }) =>
      new S3Client({
        region: env.AWS_REGION ?? 'us-east-1',
        forcePathStyle: true,
        maxAttempts: 1,
        ...(endpoint ? { endpoint } : {}),
        ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
          ? { credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } }
          : {}),
      }),
  );
  return async (name) => {
    const { GetObjectCommand } = await sdk;
    const out = await (await client).send(
      new GetObjectCommand({ Bucket: bucket, Key: prefix ? `${prefix}/${name}` : name }),
    );
    return Buffer.from(await out.Body!.transformToByteArray());
  };
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
