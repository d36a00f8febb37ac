import { realpathSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The arguments given to the script itself. `node|tsx script.mts a b` puts the script at
 * argv[1], but `zx [zx flags] script.mts a b` runs `node .../zx/build/cli.js script.mts a b`,
 * so argv.slice(2) would start with the script path. Find the script in argv instead: from
 * `script` (import.meta.url or a path) or, under zx, the `__filename` global zx sets.
 */
export function scriptArgs(
  argv: readonly string[] = process.argv,
  script: string | undefined = zxScriptPath(),
): string[] {
  if (script !== undefined) {
    const wanted = canonical(script);
    const index = argv.findIndex((arg, i) => i >= 1 && !arg.startsWith('-') && canonical(arg) === wanted);
    if (index >= 1) return argv.slice(index + 1);
  }
  return argv.slice(2);
}

/** The command's name: its script's file name without .mts (full-backup), for the --json envelope. */
export function scriptName(script: string | undefined = zxScriptPath()): string {
  if (script === undefined) return 'unknown';
  const path = script.startsWith('file:') ? fileURLToPath(script) : script;
  return basename(path).replace(/\.m?[jt]s$/, '');
}

function zxScriptPath(): string | undefined {
  const filename = (globalThis as { __filename?: unknown }).__filename;
  return typeof filename === 'string' ? filename : undefined;
}

function canonical(path: string): string {
  const absolute = resolve(path.startsWith('file:') ? fileURLToPath(path) : path);
  try {
    return realpathSync(absolute);
  } catch {
    return absolute;
  }
}
