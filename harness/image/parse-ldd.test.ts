import { describe, expect, it } from 'vitest';
import { parseLdd } from './parse-ldd.ts';

const GLIBC = `\tlinux-vdso.so.1 (0x00007ff7a2b4a000)
\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007ff7a2b34000)
\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007ff7a2800000)
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007ff7a261e000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007ff7a2b4c000)
`;

describe('parseLdd', () => {
  it('lists every library and the loader, but not the vdso', () => {
    expect(parseLdd(GLIBC)).toEqual([
      '/lib/x86_64-linux-gnu/libdl.so.2',
      '/lib/x86_64-linux-gnu/libstdc++.so.6',
      '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib64/ld-linux-x86-64.so.2',
    ]);
  });

  it('refuses output with a missing library instead of building a broken image', () => {
    expect(() => parseLdd('\tlibfoo.so.1 => not found\n')).toThrow(/libfoo/);
  });

  it('finds nothing in a statically linked binary', () => {
    expect(parseLdd('\tnot a dynamic executable\n')).toEqual([]);
  });
});
