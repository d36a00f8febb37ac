import { UsageError } from '../lib/errors.ts';

/**
 * `--image SERVICE=IMAGE` (repeatable), carried to the drill workers as ARK_DRILL_IMAGES
 * ("svc=img,svc=img"): a service of the Compose stack runs that image instead of the
 * stand-in (or instead of its own image). Malformed: exit 2, naming the flag.
 */
export function parseDrillImages(specs: readonly string[]): Record<string, string> {
  const images: Record<string, string> = {};
  for (const spec of specs) {
    const match = /^([a-z][a-z0-9_-]*)=([^\s,=]+)$/.exec(spec);
    if (!match)
      throw new UsageError(
        `--image ${JSON.stringify(spec)}: expected SERVICE=IMAGE (e.g. zeroia=arkalia-luna-zeroia:optimized)`,
      );
    images[match[1]!] = match[2]!;
  }
  return images;
}

export function drillImagesFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return parseDrillImages((env.ARK_DRILL_IMAGES ?? '').split(',').filter(Boolean));
}

export function drillImagesToEnv(images: Readonly<Record<string, string>>): string {
  return Object.entries(images)
    .map(([service, image]) => `${service}=${image}`)
    .join(',');
}
