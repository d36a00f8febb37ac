import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INSTALL_DIR } from './install-dir.ts';

// `--version` of every command and of `ark`: the package's version, and the Node it runs on.

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(INSTALL_DIR, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function versionLine(): string {
  return `arkalia-dr ${packageVersion()} (node ${process.versions.node})`;
}
