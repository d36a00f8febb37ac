import { isAbsolute, relative, resolve, sep } from 'node:path';
import { compileGlobSegment } from '../tree/index.ts';

// Who can write where a restore is about to swap files: every running container with a bind
// mount on the restored part of the root, whatever the policy says. A writer the policy
// forgot (sandozia and cognitive-reactor were, once) is found by its mounts, not its name.

export interface RunningContainer {
  /** Name without Docker's leading slash. */
  name: string;
  /** Host paths of its bind mounts, as Docker reports them. */
  bindSources: readonly string[];
}

export interface Writer {
  container: string;
  /** The bind sources that overlap what is restored. */
  sources: string[];
}

/**
 * The running containers that bind-mount a path under one of `patterns` (root-relative, `*`
 * within a segment; `modules/*\/state/`), or a folder above one (a mount of the whole root, or of
 * `modules/`). `roots` are the root's spellings (as given, and its real path): Docker reports the
 * path a mount was created with.
 */
export function findWriters(
  containers: readonly RunningContainer[],
  roots: readonly string[],
  patterns: readonly string[],
): Writer[] {
  const compiled = patterns.map((p) =>
    p
      .split('/')
      .filter((s) => s !== '' && s !== '.')
      .map((s) => compileGlobSegment(s)),
  );
  const writers: Writer[] = [];
  for (const container of containers) {
    const sources = container.bindSources.filter((source) =>
      roots.some((root) => {
        const rel = relative(resolve(root), resolve(source));
        if (rel.startsWith('..') || isAbsolute(rel)) return false;
        const segments = rel === '' ? [] : rel.split(sep);
        return compiled.some((pattern) => overlaps(segments, pattern));
      }),
    );
    if (sources.length > 0) writers.push({ container: container.name, sources });
  }
  return writers;
}

/** A mount at `segments` overlaps a pattern when one is a prefix of the other, segment by segment. */
function overlaps(segments: readonly string[], pattern: readonly { re: RegExp }[]): boolean {
  const n = Math.min(segments.length, pattern.length);
  for (let i = 0; i < n; i++) if (!pattern[i]!.re.test(segments[i]!)) return false;
  return true;
}
