// Test helpers: tar entries GNU tar will not write (a hard link to /etc/passwd, a device, a
// pax header that renames an entry out of the target, a bomb), built byte by byte (ustar).
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { tempDir } from '../testing.ts';
import { packLiveFiles } from './pack-live-files.ts';

export interface RawEntry {
  name: string;
  /** ustar typeflag: 0 file, 1 hard link, 2 symlink, 3 char device, 4 block device, 5 folder, 6 FIFO, x pax header, L GNU long name. */
  type: '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'x' | 'L';
  data?: Buffer;
  /** The size written in the header; defaults to data's length (a bomb declares more than it holds here). */
  size?: number;
  mode?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

function field(buffer: Buffer, offset: number, length: number, value: string): void {
  buffer.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

/** One 512-byte ustar header with a correct checksum. */
export function tarHeader(entry: RawEntry): Buffer {
  const h = Buffer.alloc(512);
  field(h, 0, 100, entry.name);
  field(h, 100, 8, octal(entry.mode ?? (entry.type === '5' ? 0o755 : 0o644), 8));
  field(h, 108, 8, octal(0, 8));
  field(h, 116, 8, octal(0, 8));
  field(h, 124, 12, octal(entry.size ?? entry.data?.length ?? 0, 12));
  field(h, 136, 12, octal(1_700_000_000, 12));
  field(h, 148, 8, '        ');
  field(h, 156, 1, entry.type);
  field(h, 157, 100, entry.linkname ?? '');
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  field(h, 265, 32, 'root');
  field(h, 297, 32, 'root');
  field(h, 329, 8, octal(entry.devmajor ?? 0, 8));
  field(h, 337, 8, octal(entry.devminor ?? 0, 8));
  let sum = 0;
  for (const byte of h) sum += byte;
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** Header + data padded to 512 bytes. */
export function tarEntry(entry: RawEntry): Buffer {
  const data = entry.data ?? Buffer.alloc(0);
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([tarHeader(entry), data, Buffer.alloc(pad)]);
}

/** A pax extended header (typeflag x) carrying `key=value` records for the next entry. */
export function paxEntry(records: Record<string, string>): Buffer {
  const body = Object.entries(records)
    .map(([key, value]) => {
      const text = ` ${key}=${value}\n`;
      let length = text.length + 1;
      while (`${length}${text}`.length !== length) length += 1;
      return `${length}${text}`;
    })
    .join('');
  return tarEntry({ name: 'PaxHeader', type: 'x', data: Buffer.from(body) });
}

/** A gzip tarball of these entries, ended by the two zero blocks. */
export function tarGz(entries: Buffer[]): Buffer {
  return gzipSync(Buffer.concat([...entries, Buffer.alloc(1024)]));
}

/**
 * A gzip bomb as a valid tarball: one file entry declaring `declaredBytes` of zeros, written
 * as concatenated gzip members of 1 MiB of zeros each (about 1 KiB compressed apiece), so a
 * GiB costs the test about 1 MiB and no CPU.
 */
export function gzipBomb(declaredBytes: number, name = 'bomb.bin'): Buffer {
  const MiB = 1024 * 1024;
  const head = gzipSync(tarHeader({ name, type: '0', size: declaredBytes }), { level: 9 });
  const block = gzipSync(Buffer.alloc(MiB), { level: 9 });
  const parts = [head];
  for (let written = 0; written < declaredBytes; written += MiB) parts.push(block);
  parts.push(gzipSync(Buffer.alloc(1024)));
  return Buffer.concat(parts);
}

/** packLiveFiles of `paths` under cwd, extracted by GNU tar: the text of `member` as archived. */
export async function packedText(cwd: string, paths: string[], member: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of packLiveFiles({ cwd, paths })) chunks.push(chunk as Buffer);
  const file = join(await tempDir(), 'out.tar');
  await writeFile(file, Buffer.concat(chunks));
  const target = await tempDir();
  await promisify(execFile)('tar', ['-xf', file, '-C', target]);
  return readFile(join(target, member), 'utf8');
}
