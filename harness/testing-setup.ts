import { afterAll } from 'vitest';
import { removeTempDirs } from '../lib/testing.ts';

// Every test file's temporary folders (lib/testing.ts tempDir, copyFixture) are removed once
// its tests and their own afterAll hooks are done: this hook is registered first, so it runs
// last. ARK_KEEP_TMP=1 (or a drill's ARK_KEEP_WORKDIR=1) keeps them for a post-mortem.
afterAll(async () => {
  if (!process.env.ARK_KEEP_TMP && !process.env.ARK_KEEP_WORKDIR) await removeTempDirs();
});
