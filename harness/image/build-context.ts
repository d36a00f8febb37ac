import { chmod, copyFile, cp, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { STANDIN_DOCKERFILE } from './dockerfile.ts';

export interface BuildContextSources {
  nodeBinary: string;
  /** Absolute paths as the dynamic loader will look them up (from ldd). */
  libraries: string[];
  appDir: string;
  appFiles: readonly string[];
  /** Folder of the @iarna/toml package (pure JS, no dependencies). */
  tomlPackageDir: string;
}

/**
 * Lays out a FROM scratch build context in `dir`: Dockerfile + rootfs/ holding node, its
 * libraries at their real paths, the stand-in at /app, and a world-writable /tmp.
 */
export async function writeBuildContext(dir: string, src: BuildContextSources): Promise<void> {
  const rootfs = join(dir, 'rootfs');
  const place = async (from: string, to: string) => {
    await mkdir(dirname(join(rootfs, to)), { recursive: true });
    // copyFile follows symlinks: /lib64/ld-linux-x86-64.so.2 is one on most distros, and
    // a scratch image has nothing for it to point at.
    await copyFile(from, join(rootfs, to));
  };

  await place(src.nodeBinary, '/usr/local/bin/node');
  for (const lib of src.libraries) await place(lib, lib);
  for (const file of src.appFiles) await place(join(src.appDir, file), `/app/${file}`);
  await cp(src.tomlPackageDir, join(rootfs, 'app/node_modules/@iarna/toml'), { recursive: true, dereference: true });

  await mkdir(join(rootfs, 'tmp'));
  await chmod(join(rootfs, 'tmp'), 0o1777);
  await writeFile(join(dir, 'Dockerfile'), STANDIN_DOCKERFILE);
}
