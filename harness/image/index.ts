// Builds the image the drills run, offline: FROM scratch with the host's node binary, its
// libraries and the stand-in services (no registry is reachable).
// Importing this index is cheap: dockerode and tar load only when an image is built.
import type { BuildStandInImageOptions } from './build-standin-image.ts';

export type { BuildStandInImageOptions } from './build-standin-image.ts';
export { ARK_LABEL, STANDIN_DOCKERFILE } from './dockerfile.ts';
export { STANDIN_REPOSITORY } from './image-tag.ts';

/** The stand-in image's tag, built (or found) first. */
export async function buildStandInImage(options: BuildStandInImageOptions = {}): Promise<string> {
  return (await import('./build-standin-image.ts')).buildStandInImage(options);
}
