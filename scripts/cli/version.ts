import { readFileSync } from 'node:fs';

// `--version` of every command and of `ark`: the package's version, and the Node it runs on
// (native TypeScript on Node >= 22.18, tsx before).

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function versionLine(): string {
  return `arkalia-dr ${packageVersion()} (node ${process.versions.node})`;
}
