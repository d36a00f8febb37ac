import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { STANDIN_DOCKERFILE } from './dockerfile.ts';

export const STANDIN_REPOSITORY = 'arkalia-dr-standin';

/**
 * Content-addressed tag: the same node, stand-in code and recipe give the same tag, so a
 * build is skipped when it exists and a change can never reuse a stale image.
 */
export async function standInImageTag(input: {
  nodeVersion: string;
  tomlVersion: string;
  appDir: string;
  appFiles: readonly string[];
}): Promise<string> {
  const hash = createHash('sha256');
  const field = (name: string, value: string | Buffer) => {
    hash.update(`${name}\0${value.length}\0`);
    hash.update(value);
  };
  field('node', `${input.nodeVersion} ${process.arch}`);
  field('toml', input.tomlVersion);
  field('Dockerfile', STANDIN_DOCKERFILE);
  for (const file of [...input.appFiles].sort()) field(file, await readFile(join(input.appDir, file)));
  return `${STANDIN_REPOSITORY}:${hash.digest('hex').slice(0, 12)}`;
}
