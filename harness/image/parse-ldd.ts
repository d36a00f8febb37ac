/**
 * The absolute paths of the shared libraries (and the dynamic loader) in `ldd` output.
 * `linux-vdso.so.1` has no file: the kernel maps it into every process.
 */
export function parseLdd(output: string): string[] {
  const paths = new Set<string>();
  for (const line of output.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/i.exec(line);
    if (match) paths.add(match[1]!);
    if (/=>\s*not found/.test(line)) throw new Error(`ldd: a library is missing: ${line.trim()}`);
  }
  return [...paths];
}
