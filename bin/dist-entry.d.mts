// Types of dist-entry.mjs (plain JavaScript: bin/ark.mjs runs it before any TypeScript loader).
export function distEntry(installDir: string, name: string): { entry: string } | { stale: string } | { missing: true };
