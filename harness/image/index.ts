// Builds the image the drills run, offline: FROM scratch with the host's node binary, its
// libraries and the stand-in services (no registry is reachable). ARK_IMAGE overrides it.
export { buildStandInImage } from './build-standin-image.ts';
export type { BuildStandInImageOptions } from './build-standin-image.ts';
export { ARK_LABEL, STANDIN_DOCKERFILE } from './dockerfile.ts';
export { STANDIN_REPOSITORY } from './image-tag.ts';
