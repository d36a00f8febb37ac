import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import { create as createTar } from 'tar';
import { STANDIN_APP_DIR, STANDIN_APP_FILES } from '../arkalia/index.ts';
import { writeBuildContext } from './build-context.ts';
import { ARK_LABEL } from './dockerfile.ts';
import { STANDIN_REPOSITORY, standInImageTag } from './image-tag.ts';
import { parseLdd } from './parse-ldd.ts';

export interface BuildStandInImageOptions {
  docker?: Dockerode;
  /** Overrides the content-addressed tag. */
  tag?: string;
}

const building = new Map<string, Promise<string>>();

/**
 * The stand-in image, built offline on first use (a service whose own image the host has, or
 * that --image names, runs that instead: compose-stack.ts). Idempotent: a build is skipped
 * when its content-addressed tag already exists.
 */
export async function buildStandInImage(opts: BuildStandInImageOptions = {}): Promise<string> {
  const docker = opts.docker ?? new Dockerode();
  const toml = await locateToml();
  const tag =
    opts.tag ??
    (await standInImageTag({
      nodeVersion: process.version,
      tomlVersion: toml.version,
      appDir: STANDIN_APP_DIR,
      appFiles: STANDIN_APP_FILES,
    }));
  if (await imageExists(docker, tag)) return tag;
  // Two callers in one process share a build rather than racing two.
  let pending = building.get(tag);
  if (!pending) {
    pending = build(docker, tag, toml.dir).finally(() => building.delete(tag));
    building.set(tag, pending);
  }
  return pending;
}

async function build(docker: Dockerode, tag: string, tomlPackageDir: string): Promise<string> {
  if (process.platform !== 'linux') {
    throw new Error(
      `The stand-in image copies the host's node binary, so it needs a Linux host; elsewhere give each service its own image (--image SERVICE=IMAGE)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'arkalia-dr-image-'));
  try {
    const { stdout } = await promisify(execFile)('ldd', [process.execPath]);
    await writeBuildContext(dir, {
      nodeBinary: process.execPath,
      libraries: parseLdd(stdout),
      appDir: STANDIN_APP_DIR,
      appFiles: STANDIN_APP_FILES,
      tomlPackageDir,
    });
    const context = createTar({ cwd: dir }, ['.']);
    const tarStream = context as unknown as NodeJS.ReadableStream;
    const output = await docker.buildImage(tarStream, { t: tag, rm: true, forcerm: true });
    const events = await new Promise<Array<{ error?: string; stream?: string }>>((resolve, reject) =>
      docker.modem.followProgress(output, (err: Error | null, res: Array<{ error?: string }>) =>
        err ? reject(err) : resolve(res),
      ),
    );
    const failed = events.find((e) => e.error);
    if (failed) throw new Error(`Building ${tag} failed: ${failed.error}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await pruneOtherStandInTags(docker, tag);
  return tag;
}

async function imageExists(docker: Dockerode, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

async function locateToml(): Promise<{ dir: string; version: string }> {
  const manifest = createRequire(import.meta.url).resolve('@iarna/toml/package.json');
  const { version } = JSON.parse(await readFile(manifest, 'utf8')) as { version: string };
  return { dir: dirname(manifest), version };
}

// Each stand-in change makes a new ~100 MB image; older ones are dead weight, and so is the
// untagged loser of two processes building the same tag at once. Best effort: an image
// still used by a container (another run) refuses removal and stays.
async function pruneOtherStandInTags(docker: Dockerode, keep: string): Promise<void> {
  const tagged = await docker.listImages({ filters: { reference: [STANDIN_REPOSITORY] } });
  const dangling = await docker.listImages({ filters: { dangling: ['true'], label: [`${ARK_LABEL}=true`] } });
  const stale = [
    ...tagged.flatMap((image) => image.RepoTags ?? []).filter((ref) => ref !== keep),
    ...dangling.map((image) => image.Id),
  ];
  await Promise.all(
    stale.map((ref) =>
      docker
        .getImage(ref)
        .remove()
        .catch(() => undefined),
    ),
  );
}
