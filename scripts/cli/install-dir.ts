import { fileURLToPath } from 'node:url';

// Where this install of arkalia-dr is, whether it runs from its TypeScript sources (this file
// is scripts/cli/install-dir.ts) or from the JavaScript `npm run build` bundles into dist/
// (every output file is dist/<name>.mjs; build-dist.ts defines ARK_BUNDLED there).

declare const ARK_BUNDLED: true | undefined;

/** True in dist/'s bundle, false when the sources run (tsx, or Node's own type stripping). */
export const BUNDLED = typeof ARK_BUNDLED !== 'undefined';

/** The arkalia-dr folder: package.json, bin/, scripts/, dist/. Ends with '/'. */
export const INSTALL_DIR = fileURLToPath(new URL(BUNDLED ? '..' : '../..', import.meta.url));
